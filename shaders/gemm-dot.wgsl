// Dot products of 8-element chunks (two vec4 in a mat2x4), shared by the GEMV and GEMM kernels: their launchers join
// this file to them. One fma chain per chunk: fewer instructions than two dot() and an add where the compiler does
// not contract multiplies and adds (SwiftShader's JIT does not), and one rounding per element.
fn dot8_acc(acc: f32, a: mat2x4<f32>, b: mat2x4<f32>) -> f32 {
  let lo = fma(a[0].w, b[0].w, fma(a[0].z, b[0].z, fma(a[0].y, b[0].y, fma(a[0].x, b[0].x, acc))));
  return fma(a[1].w, b[1].w, fma(a[1].z, b[1].z, fma(a[1].y, b[1].y, fma(a[1].x, b[1].x, lo))));
}

fn dot8(a: mat2x4<f32>, b: mat2x4<f32>) -> f32 {
  return dot8_acc(0.0, a, b);
}

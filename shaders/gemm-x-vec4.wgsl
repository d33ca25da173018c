// Activation access for the GEMV and GEMM kernels when cols % 4 == 0: X (rows of `cols` f32) bound as vec4<f32>,
// so a chunk of 8 is two vector loads. The launcher picks this file or gemm-x-scalar.wgsl and joins it to the kernel.
@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;

// Elements 8*k8 .. 8*k8+7 of row i of X; the chunk must lie inside the row.
fn x_chunk(i: u32, k8: u32) -> mat2x4<f32> {
  let v = (i * params.cols + k8 * 8u) / 4u;
  return mat2x4<f32>(x[v], x[v + 1u]);
}

// The row's last chunk when cols % 8 == 4: its second half lies past the row and reads as 0.
fn x_chunk_tail(i: u32, k8: u32) -> mat2x4<f32> {
  let v = (i * params.cols + k8 * 8u) / 4u;
  return mat2x4<f32>(x[v], select(vec4<f32>(0.0), x[v + 1u], k8 * 8u + 8u <= params.cols));
}

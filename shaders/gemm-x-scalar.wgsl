// Activation access for the GEMV and GEMM kernels when cols % 4 != 0: X (rows of `cols` f32) bound as f32, since
// its rows do not start on vec4 boundaries. The launcher picks this file or gemm-x-vec4.wgsl and joins it to the
// kernel.
@group(0) @binding(0) var<storage, read> x: array<f32>;

// Elements 8*k8 .. 8*k8+7 of row i of X; the chunk must lie inside the row.
fn x_chunk(i: u32, k8: u32) -> mat2x4<f32> {
  let k = i * params.cols + k8 * 8u;
  return mat2x4<f32>(vec4<f32>(x[k], x[k + 1u], x[k + 2u], x[k + 3u]), vec4<f32>(x[k + 4u], x[k + 5u], x[k + 6u], x[k + 7u]));
}

// The row's last, partial chunk: elements at or past `cols` read as 0, and nothing past the row is read.
fn x_chunk_tail(i: u32, k8: u32) -> mat2x4<f32> {
  let base = i * params.cols;
  var v: array<f32, 8>;
  for (var j = 0u; j < 8u; j++) {
    let k = k8 * 8u + j;
    v[j] = select(0.0, x[base + min(k, params.cols - 1u)], k < params.cols);
  }
  return mat2x4<f32>(vec4<f32>(v[0], v[1], v[2], v[3]), vec4<f32>(v[4], v[5], v[6], v[7]));
}

// GEMV block dot products over dequantized weights and plain f32 x, shared by the rowwise (gemv-rowwise.wgsl) and
// cooperative (gemv-coop.wgsl) kernels; joined after gemv.wgsl, gemm-dot.wgsl and the weight and activation access.
// Row `row` of W against x over 32-block b, given x's four chunks of the block.
fn block_dot(row: u32, b: u32, x0: mat2x4<f32>, x1: mat2x4<f32>, x2: mat2x4<f32>, x3: mat2x4<f32>) -> f32 {
  let w = w_block(row, b);
  let d = w_scale(row, b);
  return dot8_acc(dot8_acc(dot8_acc(dot8(w_chunk(w, 0u, d), x0), w_chunk(w, 1u, d), x1), w_chunk(w, 2u, d), x2),
    w_chunk(w, 3u, d), x3);
}

// Four rows against x over block b, given x's four chunks of the block.
fn block_dot4(r: vec4<u32>, b: u32, x0: mat2x4<f32>, x1: mat2x4<f32>, x2: mat2x4<f32>, x3: mat2x4<f32>) -> vec4<f32> {
  return vec4<f32>(
    block_dot(r.x, b, x0, x1, x2, x3),
    block_dot(r.y, b, x0, x1, x2, x3),
    block_dot(r.z, b, x0, x1, x2, x3),
    block_dot(r.w, b, x0, x1, x2, x3),
  );
}

// Four rows against x over the partial chunk k8 at the end of a float row (cols % 32 != 0).
fn tail_dot4(r: vec4<u32>, k8: u32) -> vec4<f32> {
  let xv = x_chunk_tail(0u, k8);
  return vec4<f32>(
    dot8(w_load8_tail(r.x, k8), xv),
    dot8(w_load8_tail(r.y, k8), xv),
    dot8(w_load8_tail(r.z, k8), xv),
    dot8(w_load8_tail(r.w, k8), xv),
  );
}


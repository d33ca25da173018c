// GEMV common part: y = W x for one row chunk of W, out[row_offset + r] = sum_k W[r, k] * x[k]. Params, the output
// binding and the block dot products shared by the rowwise (gemv-rowwise.wgsl) and cooperative (gemv-coop.wgsl)
// kernels. src/kernels/gemv.ts joins this with one of them, with gemm-dot.wgsl (dot8), with the activation access
// (gemm-x-vec4.wgsl or gemm-x-scalar.wgsl: x_chunk, binding 0) and with the weight access of weights-<type>.wgsl
// (w_block, w_scale, w_chunk, w_load8_tail; bindings 2.. and the uniform). Work items are folded over a 2-D grid of `grid_x` workgroups
// per grid row.
struct Params {
  rows: u32,
  cols: u32,
  row_offset: u32,
  grid_x: u32,
}

@group(0) @binding(1) var<storage, read_write> out: array<f32>;

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

// Stores the sums of rows first .. first+3 that exist.
fn store4(first: u32, sums: vec4<f32>) {
  for (var i = 0u; i < 4u; i++) {
    if (first + i < params.rows) {
      out[params.row_offset + first + i] = sums[i];
    }
  }
}

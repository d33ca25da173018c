// GEMV common part: y = W x for one row chunk of W, out[row_offset + r] = sum_k W[r, k] * x[k]. Params and the
// output binding shared by every GEMV kernel: src/kernels/gemv.ts joins this with the weight access of
// weights-<type>.wgsl (bindings 2.. and the uniform), gemm-dot.wgsl (dot8) and either gemv-block.wgsl, the
// activation access (x_chunk, binding 0) and a rowwise or cooperative kernel, or the q4_0 rowwise kernel
// (gemv-rowwise-raw.wgsl, which reads the output of gemv-raw-prepass.wgsl at binding 0). Work items are folded
// over a 2-D grid of `grid_x` workgroups per grid row.
struct Params {
  rows: u32,
  cols: u32,
  row_offset: u32,
  grid_x: u32,
}

@group(0) @binding(1) var<storage, read_write> out: array<f32>;

// Stores the sums of rows first .. first+3 that exist.
fn store4(first: u32, sums: vec4<f32>) {
  for (var i = 0u; i < 4u; i++) {
    if (first + i < params.rows) {
      out[params.row_offset + first + i] = sums[i];
    }
  }
}

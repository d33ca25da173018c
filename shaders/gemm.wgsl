// GEMM common part: Y = X W^T for one row chunk of W, out[i * out_stride + row_offset + r] = sum_k X[i, k] * W[r, k]
// for i < m. Params, the output binding and the store shared by the barrier-free register-tiled kernel
// (gemm-rowwise.wgsl) and the cooperative one (gemm-coop.wgsl). src/kernels/gemm.ts joins this with one of them, with
// gemm-dot.wgsl (dot8), with the activation access (gemm-x-vec4.wgsl or gemm-x-scalar.wgsl: x_chunk, binding 0) and
// with the weight access of weights-<type>.wgsl (w_block, w_scale, w_chunk, w_load8_tail; bindings 2.. and the
// uniform).
struct Params {
  m: u32,
  rows: u32,
  cols: u32,
  row_offset: u32,
  out_stride: u32,
}

@group(0) @binding(1) var<storage, read_write> out: array<f32>;

// Stores acc[j] = Y[i, r[j]] for the entries that exist (r[j] = r0 + j * step).
fn store_row(i: u32, r0: u32, step: u32, acc: vec4<f32>) {
  if (i >= params.m) {
    return;
  }
  let base = i * params.out_stride + params.row_offset;
  for (var j = 0u; j < 4u; j++) {
    let r = r0 + j * step;
    if (r < params.rows) {
      out[base + r] = acc[j];
    }
  }
}

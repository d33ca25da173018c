// GEMM common part: Y = X W^T for one row chunk of W, out[i * out_stride + row_offset + r] = sum_k X[i, k] * W[r, k]
// for i < m. Params, the output binding and the 4 x 4 tile arithmetic shared by the barrier-free register-tiled kernel
// (gemm-rowwise.wgsl) and the cooperative one (gemm-coop.wgsl). src/kernels/gemm.ts joins this with one of them, with
// the activation access (gemm-x-vec4.wgsl or gemm-x-scalar.wgsl: x_chunk, binding 0) and with the weight access of
// weights-<type>.wgsl (w_block, w_scale, w_chunk, w_load8_tail; bindings 2.. and the uniform).
struct Params {
  m: u32,
  rows: u32,
  cols: u32,
  row_offset: u32,
  out_stride: u32,
}

@group(0) @binding(1) var<storage, read_write> out: array<f32>;

fn dot8(a: mat2x4<f32>, b: mat2x4<f32>) -> f32 {
  return dot(a[0], b[0]) + dot(a[1], b[1]);
}

// One 8-element step of a 4 x 4 tile: column i is X row i against the four W rows.
fn tile8(x0: mat2x4<f32>, x1: mat2x4<f32>, x2: mat2x4<f32>, x3: mat2x4<f32>, w0: mat2x4<f32>, w1: mat2x4<f32>,
         w2: mat2x4<f32>, w3: mat2x4<f32>) -> mat4x4<f32> {
  return mat4x4<f32>(
    vec4<f32>(dot8(x0, w0), dot8(x0, w1), dot8(x0, w2), dot8(x0, w3)),
    vec4<f32>(dot8(x1, w0), dot8(x1, w1), dot8(x1, w2), dot8(x1, w3)),
    vec4<f32>(dot8(x2, w0), dot8(x2, w1), dot8(x2, w2), dot8(x2, w3)),
    vec4<f32>(dot8(x3, w0), dot8(x3, w1), dot8(x3, w2), dot8(x3, w3)),
  );
}

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

// Embedding lookup: out[i, :] = row tokens[i] of the table, dequantized, for the rows held by one chunk of the
// table (rows row_start .. row_start + rows - 1). One invocation per 8-element chunk of an output row, tokens times
// chunks folded over a 2-D grid of `grid_x` workgroups per grid row. A token id past the whole table
// (>= total_rows) never reads memory: the chunk launched with zero_fill = 1 writes zeros for it. The weight
// access (w_block / w_scale / w_chunk / w_load8_tail, bindings 2.. and the uniform) comes from weights-<type>.wgsl,
// joined by src/kernels/embedding.ts.
override WG: u32 = 64u;

struct Params {
  count: u32,
  cols: u32,
  row_start: u32,
  rows: u32,
  total_rows: u32,
  zero_fill: u32,
  grid_x: u32,
  groups_per_token: u32,
}

@group(0) @binding(0) var<storage, read> tokens: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let linear = wg.y * params.grid_x + wg.x;
  let i = linear / params.groups_per_token;
  let k8 = (linear % params.groups_per_token) * WG + lid;
  let k = k8 * 8u;
  if (i >= params.count || k >= params.cols) {
    return;
  }
  let id = tokens[i];
  var v = mat2x4<f32>(vec4<f32>(0.0), vec4<f32>(0.0));
  if (id >= params.row_start && id - params.row_start < params.rows) {
    let row = id - params.row_start;
    let b = k8 / 4u;
    if (b < params.cols / 32u) {
      v = w_chunk(w_block(row, b), k8 % 4u, w_scale(row, b));
    } else {
      v = w_load8_tail(row, k8);
    }
  } else if (params.zero_fill == 0u || id < params.total_rows) {
    return; // another chunk holds this row
  }
  let base = i * params.cols + k;
  for (var j = 0u; j < 8u; j++) {
    if (k + j < params.cols) {
      out[base + j] = v[j / 4u][j % 4u];
    }
  }
}

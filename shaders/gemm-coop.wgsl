// GEMM, cooperative (for GPUs): a workgroup of 8 x 8 threads computes a 32 x 32 tile of Y (32 activation rows x 32
// weight rows). For each 32-wide slice of K, threads 0..31 dequantize one weight row's block and threads 32..63 load
// one activation row's slice into workgroup memory; after a barrier every thread accumulates its 4 x 4 sub-tile from
// there in four vec4 accumulators. Thread (tx, ty) owns weight rows tx + 8j and activation rows ty + 8i, so
// neighbouring threads read neighbouring tile rows and store neighbouring outputs; tile rows are padded to 9 vec4 to
// spread workgroup-memory banks. Joined after gemm.wgsl and the activation and weight access files.
const TILE: u32 = 32u;
const PITCH: u32 = 9u; // vec4 per staged row: 8 of data + 1 of padding

var<workgroup> x_tile: array<vec4<f32>, 288>; // TILE * PITCH
var<workgroup> w_tile: array<vec4<f32>, 288>;

fn stage(slot: u32, v: mat2x4<f32>, weights: bool) {
  if (weights) {
    w_tile[slot] = v[0];
    w_tile[slot + 1u] = v[1];
  } else {
    x_tile[slot] = v[0];
    x_tile[slot + 1u] = v[1];
  }
}

@compute @workgroup_size(8, 8)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(local_invocation_id) local: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let row_base = wg.x * TILE;
  let i_base = wg.y * TILE;
  // The tile row this thread stages: weight row (lid < 32) or activation row; rows past the end repeat the last
  // one (never stored).
  let t = lid % TILE;
  let weights = lid < TILE;
  let row = min(row_base + t, params.rows - 1u);
  let i = min(i_base + t, params.m - 1u);
  var acc = mat4x4<f32>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  let slices = (params.cols + TILE - 1u) / TILE;
  let blocks = params.cols / TILE;
  for (var s = 0u; s < slices; s++) {
    if (s < blocks) {
      if (weights) {
        let w = w_block(row, s);
        let d = w_scale(row, s);
        for (var c = 0u; c < 4u; c++) {
          stage(t * PITCH + 2u * c, w_chunk(w, c, d), true);
        }
      } else {
        for (var c = 0u; c < 4u; c++) {
          stage(t * PITCH + 2u * c, x_chunk(i, s * 4u + c), false);
        }
      }
    } else {
      // The last, partial slice of a float row: chunks past cols are zero.
      for (var c = 0u; c < 4u; c++) {
        let k8 = s * 4u + c;
        var v = mat2x4<f32>(vec4<f32>(0.0), vec4<f32>(0.0));
        if (k8 * 8u < params.cols) {
          if (weights) {
            v = w_load8_tail(row, k8);
          } else {
            v = x_chunk_tail(i, k8);
          }
        }
        stage(t * PITCH + 2u * c, v, weights);
      }
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 8u; kk++) {
      let w0 = w_tile[local.x * PITCH + kk];
      let w1 = w_tile[(local.x + 8u) * PITCH + kk];
      let w2 = w_tile[(local.x + 16u) * PITCH + kk];
      let w3 = w_tile[(local.x + 24u) * PITCH + kk];
      let x0 = x_tile[local.y * PITCH + kk];
      let x1 = x_tile[(local.y + 8u) * PITCH + kk];
      let x2 = x_tile[(local.y + 16u) * PITCH + kk];
      let x3 = x_tile[(local.y + 24u) * PITCH + kk];
      acc += mat4x4<f32>(
        vec4<f32>(dot(x0, w0), dot(x0, w1), dot(x0, w2), dot(x0, w3)),
        vec4<f32>(dot(x1, w0), dot(x1, w1), dot(x1, w2), dot(x1, w3)),
        vec4<f32>(dot(x2, w0), dot(x2, w1), dot(x2, w2), dot(x2, w3)),
        vec4<f32>(dot(x3, w0), dot(x3, w1), dot(x3, w2), dot(x3, w3)),
      );
    }
    workgroupBarrier();
  }
  // acc[i][j] = Y[i_base + ty + 8i, row_base + tx + 8j].
  let r = row_base + local.x;
  store_row(i_base + local.y, r, 8u, acc[0]);
  store_row(i_base + local.y + 8u, r, 8u, acc[1]);
  store_row(i_base + local.y + 16u, r, 8u, acc[2]);
  store_row(i_base + local.y + 24u, r, 8u, acc[3]);
}

// GEMV for q4_0 weights, barrier-free ("rowwise"), without subgroups: each invocation computes 16 rows, like
// gemv-rowwise.wgsl, loading the pre-scaled x of each block pair once for all 16. Joined after gemv-q4-0-raw.wgsl.
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let first = ((wg.y * params.grid_x + wg.x) * WG + lid) * 16u;
  if (first >= params.rows) {
    return;
  }
  // Rows past the chunk repeat its last row (loads stay in bounds); their sums are not stored.
  let last = vec4<u32>(params.rows - 1u);
  let ra = min(vec4<u32>(first) + vec4<u32>(0u, 1u, 2u, 3u), last);
  let rb = min(vec4<u32>(first) + vec4<u32>(4u, 5u, 6u, 7u), last);
  let rc = min(vec4<u32>(first) + vec4<u32>(8u, 9u, 10u, 11u), last);
  let rd = min(vec4<u32>(first) + vec4<u32>(12u, 13u, 14u, 15u), last);
  var acc_a = vec4<f32>(0.0);
  var acc_b = vec4<f32>(0.0);
  var acc_c = vec4<f32>(0.0);
  var acc_d = vec4<f32>(0.0);
  let blocks = params.cols / 32u;
  // The block terms follow the cols scaled values: four per vec4, so a pair is one half of one.
  let terms = params.cols / 4u;
  for (var p = 0u; p < blocks / 2u; p++) {
    let xa = x_block(2u * p);
    let xb = x_block(2u * p + 1u);
    let t = xs[terms + p / 2u];
    let m = select(t.xy, t.zw, (p & 1u) == 1u);
    acc_a += pair_dot4(ra, p, xa, xb, m);
    acc_b += pair_dot4(rb, p, xa, xb, m);
    acc_c += pair_dot4(rc, p, xa, xb, m);
    acc_d += pair_dot4(rd, p, xa, xb, m);
  }
  for (var b = blocks & ~1u; b < blocks; b++) {
    let x = x_block(b);
    let m = xs[terms + b / 4u][b % 4u];
    acc_a += single_dot4(ra, b, x, m);
    acc_b += single_dot4(rb, b, x, m);
    acc_c += single_dot4(rc, b, x, m);
    acc_d += single_dot4(rd, b, x, m);
  }
  store4(first, acc_a);
  store4(first + 4u, acc_b);
  store4(first + 8u, acc_c);
  store4(first + 12u, acc_d);
}

enable subgroups;
// GEMV for q4_0 weights, barrier-free ("rowwise"), on devices with subgroups: as gemv-rowwise-q4-0.wgsl (16 rows per
// invocation), but the pre-scaled x of a block pair (16 vec4) is loaded a quarter per lane and passed round by
// broadcast: on SwiftShader every storage load is a per-lane gather, so 4 vec4 loads per pair instead of 16 cut the
// kernel's time by about a tenth. Lanes 0..3 of each subgroup (WebGPU subgroups have at least 4) are the sources, so
// every lane must reach the loop: no early return. Must open the module (for `enable`); gemv-q4-0-raw.wgsl and the
// rest follow it.

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(subgroup_invocation_id) sg_lane: u32,
) {
  let first = ((wg.y * params.grid_x + wg.x) * WG + lid) * 16u;
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
  // This lane's quarter of a pair's 16 vec4: lane q holds vec4s 4q..4q+3 (block 2p in quarters 0-1, 2p+1 in 2-3).
  let quarter = (sg_lane & 3u) * 4u;
  for (var p = 0u; p < blocks / 2u; p++) {
    let v = 16u * p + quarter;
    let x0 = xs[v];
    let x1 = xs[v + 1u];
    let x2 = xs[v + 2u];
    let x3 = xs[v + 3u];
    let xa = XBlock(
      mat2x4<f32>(subgroupBroadcast(x0, 0u), subgroupBroadcast(x1, 0u)),
      mat2x4<f32>(subgroupBroadcast(x2, 0u), subgroupBroadcast(x3, 0u)),
      mat2x4<f32>(subgroupBroadcast(x0, 1u), subgroupBroadcast(x1, 1u)),
      mat2x4<f32>(subgroupBroadcast(x2, 1u), subgroupBroadcast(x3, 1u)),
    );
    let xb = XBlock(
      mat2x4<f32>(subgroupBroadcast(x0, 2u), subgroupBroadcast(x1, 2u)),
      mat2x4<f32>(subgroupBroadcast(x2, 2u), subgroupBroadcast(x3, 2u)),
      mat2x4<f32>(subgroupBroadcast(x0, 3u), subgroupBroadcast(x1, 3u)),
      mat2x4<f32>(subgroupBroadcast(x2, 3u), subgroupBroadcast(x3, 3u)),
    );
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
  // store4 skips rows past the chunk, so invocations wholly past it store nothing.
  store4(first, acc_a);
  store4(first + 4u, acc_b);
  store4(first + 8u, acc_c);
  store4(first + 12u, acc_d);
}

enable subgroups;
// Entry point of the raw rowwise GEMV on devices with subgroups (gemv-rowwise-raw.wgsl holds the kernel): the
// pre-scaled x of a block pair (16 vec4) is loaded a quarter per lane and passed round by broadcast: on SwiftShader
// every storage load is a per-lane gather, so 4 vec4 loads per pair instead of 16 cut the kernel's time by about a
// tenth. Lanes 0..3 of each subgroup (WebGPU subgroups have at least 4) are the sources, so every lane must reach the
// loop: no early return. Must open the module (for `enable`); the rest follows it.

// Lane q holds vec4s 4q..4q+3 of the pair (block 2p in quarters 0-1, 2p+1 in 2-3).
fn raw_x_pair(p: u32, lane: u32) -> XPair {
  let v = 16u * p + (lane & 3u) * 4u;
  let x0 = xs[v];
  let x1 = xs[v + 1u];
  let x2 = xs[v + 2u];
  let x3 = xs[v + 3u];
  return XPair(
    XBlock(
      mat2x4<f32>(subgroupBroadcast(x0, 0u), subgroupBroadcast(x1, 0u)),
      mat2x4<f32>(subgroupBroadcast(x2, 0u), subgroupBroadcast(x3, 0u)),
      mat2x4<f32>(subgroupBroadcast(x0, 1u), subgroupBroadcast(x1, 1u)),
      mat2x4<f32>(subgroupBroadcast(x2, 1u), subgroupBroadcast(x3, 1u)),
    ),
    XBlock(
      mat2x4<f32>(subgroupBroadcast(x0, 2u), subgroupBroadcast(x1, 2u)),
      mat2x4<f32>(subgroupBroadcast(x2, 2u), subgroupBroadcast(x3, 2u)),
      mat2x4<f32>(subgroupBroadcast(x0, 3u), subgroupBroadcast(x1, 3u)),
      mat2x4<f32>(subgroupBroadcast(x2, 3u), subgroupBroadcast(x3, 3u)),
    ),
  );
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(subgroup_invocation_id) sg_lane: u32,
) {
  raw_rows16(((wg.y * params.grid_x + wg.x) * WG + lid) * 16u, sg_lane);
}

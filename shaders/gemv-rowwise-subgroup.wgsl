enable subgroups;
// Entry point of the rowwise GEMV on devices with subgroups (gemv-rowwise.wgsl holds the kernel): lane q of each four
// loads chunk q of a block's x and passes it round by broadcast, as gemv-rowwise-raw-subgroup.wgsl does: on
// SwiftShader every storage load is a per-lane gather, so a quarter of the x loads (4096x4096, two interleaved runs
// each way: 0 to 14% less GPU time over f32, f16, q8_0 and q6_k, about 5% on average). Lanes 0..3 of each subgroup (WebGPU subgroups have at least 4) are the
// sources, so every lane must reach the loop: no early return. Must open the module (for `enable`); the rest follows.

fn rowwise_x(b: u32, lane: u32) -> RowwiseX {
  let mine = x_chunk(0u, b * 4u + (lane & 3u));
  return RowwiseX(
    mat2x4<f32>(subgroupBroadcast(mine[0], 0u), subgroupBroadcast(mine[1], 0u)),
    mat2x4<f32>(subgroupBroadcast(mine[0], 1u), subgroupBroadcast(mine[1], 1u)),
    mat2x4<f32>(subgroupBroadcast(mine[0], 2u), subgroupBroadcast(mine[1], 2u)),
    mat2x4<f32>(subgroupBroadcast(mine[0], 3u), subgroupBroadcast(mine[1], 3u)),
  );
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(subgroup_invocation_id) sg_lane: u32,
) {
  rowwise_rows8(((wg.y * params.grid_x + wg.x) * WG + lid) * 8u, sg_lane);
}

enable subgroups;
// Entry point of the sparse rowwise GEMV on devices with subgroups (sparse-gemv-rowwise.wgsl holds the kernel): the x
// of a full block (8 vec4) is loaded a quarter per lane and passed round by broadcast, as
// gemv-rowwise-raw-subgroup.wgsl does: on SwiftShader every storage load is a per-lane gather, so 2 vec4 loads per
// block instead of 8. Lanes 0..3 of each subgroup (WebGPU subgroups have at least 4) are the sources, so every lane
// must reach the loop: no early return (rows past the chunk repeat its last row and are not stored). Must open the
// module (for `enable`); the rest follows it.

// The x of full block b: lane q of each four loads vec4s 2q and 2q + 1.
fn sparse_x_full(b: u32, lane: u32) -> SXBlock {
  let v = b * 8u + (lane & 3u) * 2u;
  let x0 = x[v];
  let x1 = x[v + 1u];
  return SXBlock(
    mat4x4<f32>(subgroupBroadcast(x0, 0u), subgroupBroadcast(x1, 0u), subgroupBroadcast(x0, 1u), subgroupBroadcast(x1, 1u)),
    mat4x4<f32>(subgroupBroadcast(x0, 2u), subgroupBroadcast(x1, 2u), subgroupBroadcast(x0, 3u), subgroupBroadcast(x1, 3u)),
  );
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(subgroup_invocation_id) sg_lane: u32,
) {
  sparse_rows16(((wg.y * params.grid_x + wg.x) * WG + lid) * 16u, sg_lane);
}

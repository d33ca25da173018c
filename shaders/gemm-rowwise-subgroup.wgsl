enable subgroups;
// Entry point of the rowwise GEMM on devices with subgroups (gemm-rowwise.wgsl holds the kernel). The launcher lays
// workgroups out along weight rows only (WG_Y = 1), so every invocation of a subgroup shares its tile's activation
// rows: lane q of each four loads the chunks of rows q and q + 4 and passes them round by broadcast, two loads per
// chunk instead of eight (on SwiftShader, where every storage load is a per-lane gather: 128x4096x4096 q4_0 and
// 1024^3 f32, about a fifth and a tenth less time). Lanes 0..3 of each subgroup (WebGPU subgroups have at least 4) are
// the sources, so every lane must reach the loop: no early return (rows past the end are clamped for loads and not
// stored). Must open the module (for `enable`); the rest follows it.

fn tile_x(i0: u32, ia: vec4<u32>, ib: vec4<u32>, k8: u32, lane: u32) -> TileX {
  let last = params.m - 1u;
  let lo = x_chunk(min(i0 + (lane & 3u), last), k8);
  let hi = x_chunk(min(i0 + 4u + (lane & 3u), last), k8);
  return TileX(
    mat2x4<f32>(subgroupBroadcast(lo[0], 0u), subgroupBroadcast(lo[1], 0u)),
    mat2x4<f32>(subgroupBroadcast(lo[0], 1u), subgroupBroadcast(lo[1], 1u)),
    mat2x4<f32>(subgroupBroadcast(lo[0], 2u), subgroupBroadcast(lo[1], 2u)),
    mat2x4<f32>(subgroupBroadcast(lo[0], 3u), subgroupBroadcast(lo[1], 3u)),
    mat2x4<f32>(subgroupBroadcast(hi[0], 0u), subgroupBroadcast(hi[1], 0u)),
    mat2x4<f32>(subgroupBroadcast(hi[0], 1u), subgroupBroadcast(hi[1], 1u)),
    mat2x4<f32>(subgroupBroadcast(hi[0], 2u), subgroupBroadcast(hi[1], 2u)),
    mat2x4<f32>(subgroupBroadcast(hi[0], 3u), subgroupBroadcast(hi[1], 3u)),
  );
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
  gemm_rowwise_tile(gid.x * 16u, gid.y * 8u, lane);
}

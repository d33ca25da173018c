// Entry point of the rowwise GEMM without subgroups (gemm-rowwise.wgsl holds the kernel): each invocation loads its
// tile's activation chunks itself. Joined last.

// Activation rows ia, ib (the tile's eight, clamped to the last) at chunk k8.
fn tile_x(i0: u32, ia: vec4<u32>, ib: vec4<u32>, k8: u32, lane: u32) -> TileX {
  return TileX(
    x_chunk(ia.x, k8), x_chunk(ia.y, k8), x_chunk(ia.z, k8), x_chunk(ia.w, k8),
    x_chunk(ib.x, k8), x_chunk(ib.y, k8), x_chunk(ib.z, k8), x_chunk(ib.w, k8),
  );
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r0 = gid.x * 16u;
  let i0 = gid.y * 8u;
  if (r0 >= params.rows || i0 >= params.m) {
    return;
  }
  gemm_rowwise_tile(r0, i0, 0u);
}

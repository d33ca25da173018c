// Entry point of the sparse rowwise GEMV without subgroups (sparse-gemv-rowwise.wgsl holds the kernel): each
// invocation loads the x of every full block itself. Joined last.

// The x of full block b.
fn sparse_x_full(b: u32, lane: u32) -> SXBlock {
  return sparse_x_block(b);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let first = ((wg.y * params.grid_x + wg.x) * WG + lid) * 16u;
  if (first >= params.rows) {
    return;
  }
  sparse_rows16(first, 0u);
}

// Entry point of the rowwise GEMV without subgroups (gemv-rowwise.wgsl holds the kernel): each invocation loads the
// x of every block itself. Joined last.

fn rowwise_x(b: u32, lane: u32) -> RowwiseX {
  return RowwiseX(x_chunk(0u, b * 4u), x_chunk(0u, b * 4u + 1u), x_chunk(0u, b * 4u + 2u), x_chunk(0u, b * 4u + 3u));
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let first = ((wg.y * params.grid_x + wg.x) * WG + lid) * 8u;
  if (first >= params.rows) {
    return;
  }
  rowwise_rows8(first, 0u);
}

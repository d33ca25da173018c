// Entry point of the raw rowwise GEMV without subgroups (gemv-rowwise-raw.wgsl holds the kernel): each invocation
// loads the scaled x of every block pair itself. Joined last.

fn raw_x_pair(p: u32, lane: u32) -> XPair {
  return XPair(x_block(2u * p), x_block(2u * p + 1u));
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let first = ((wg.y * params.grid_x + wg.x) * WG + lid) * 16u;
  if (first >= params.rows) {
    return;
  }
  raw_rows16(first, 0u);
}

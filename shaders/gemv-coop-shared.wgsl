// Entry point of the cooperative GEMV (gemv-coop.wgsl) reducing in workgroup memory: a tree over the WG partial
// sums (WG a power of two), for devices without subgroups.
var<workgroup> partial_sums: array<vec4<f32>, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let group = wg.y * params.grid_x + wg.x;
  // Every invocation reaches the barriers: groups past the last row only skip the store.
  partial_sums[lid] = gemv_partial(lid, group);
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      partial_sums[lid] += partial_sums[lid + stride];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    store4(group * 4u, partial_sums[0]);
  }
}

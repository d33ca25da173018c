// Entry point of the cooperative GEMV (gemv-coop.wgsl) reducing with subgroups: subgroupAdd within each subgroup,
// one slot per subgroup in workgroup memory, then thread 0 adds the slots. Assumes a 1-D workgroup is cut into
// subgroups in local_invocation_index order (true of every implementation we know; WGSL has no portable subgroup
// id before the `subgroup_id` extension). Chosen only when the device has the `subgroups` feature.
enable subgroups;

// WG / the smallest subgroup size WebGPU allows (4) slots.
var<workgroup> subgroup_sums: array<vec4<f32>, WG / 4u>;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(subgroup_invocation_id) lane: u32,
  @builtin(subgroup_size) width: u32,
) {
  let group = wg.y * params.grid_x + wg.x;
  // Every invocation reaches the barrier: groups past the last row only skip the store.
  let sums = subgroupAdd(gemv_partial(lid, group));
  if (lane == 0u) {
    subgroup_sums[lid / width] = sums;
  }
  workgroupBarrier();
  if (lid == 0u) {
    var total = vec4<f32>(0.0);
    for (var i = 0u; i < WG / width; i++) {
      total += subgroup_sums[i];
    }
    store4(group * 4u, total);
  }
}

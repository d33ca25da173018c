// Copy: out[i] = x[i] over vec4<f32> words, the device's own bandwidth yardstick. One invocation per vec4, no
// shared memory, no barriers; the grid may be folded into 2-D past the per-dimension limit (src/kernels/grid.ts).
override WG: u32 = 256u;

struct Params {
  count: u32,
}

@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = (wg.y * groups.x + wg.x) * WG + lid;
  if (i < params.count) {
    out[i] = x[i];
  }
}

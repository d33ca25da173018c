// Residual add in place: x[i] += b[i]. A second shader because WebGPU forbids binding one range both as
// read-only input and as writable output. One invocation per element, grid folded as in add.wgsl.
override WG: u32 = 256u;

struct Params {
  n: u32,
}

@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = (wg.y * groups.x + wg.x) * WG + lid;
  if (i < params.n) {
    x[i] = x[i] + b[i];
  }
}

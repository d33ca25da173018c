// Bias add in place: x[r, i] += bias[i] for rows r < rows, i < n (a projection's bias on each token's output).
// One invocation per element, no shared memory; the 1-D grid is folded into 2-D past the per-dimension limit.
override WG: u32 = 256u;

struct Params {
  rows: u32,
  n: u32,
}

@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = (wg.y * groups.x + wg.x) * WG + lid;
  if (i < params.rows * params.n) {
    x[i] += bias[i % params.n];
  }
}

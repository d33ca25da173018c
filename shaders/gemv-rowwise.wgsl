// GEMV, barrier-free ("rowwise"): each invocation computes 8 rows of W, no shared memory, no barriers: the fast
// shape on CPU adapters (SwiftShader runs 4 invocations per SIMD group and turns every storage load into a per-lane
// gather, so what costs is the number of loads: 8 rows reuse each loaded chunk of x 8 times). Joined after
// gemv.wgsl and the activation and weight access files.
override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let first = ((wg.y * params.grid_x + wg.x) * WG + lid) * 8u;
  if (first >= params.rows) {
    return;
  }
  // Rows past the chunk repeat its last row (loads stay in bounds); their sums are not stored.
  let last = vec4<u32>(params.rows - 1u);
  let ra = min(vec4<u32>(first) + vec4<u32>(0u, 1u, 2u, 3u), last);
  let rb = min(vec4<u32>(first) + vec4<u32>(4u, 5u, 6u, 7u), last);
  var acc_a = vec4<f32>(0.0);
  var acc_b = vec4<f32>(0.0);
  let blocks = params.cols / 32u;
  for (var b = 0u; b < blocks; b++) {
    let x0 = x_chunk(0u, b * 4u);
    let x1 = x_chunk(0u, b * 4u + 1u);
    let x2 = x_chunk(0u, b * 4u + 2u);
    let x3 = x_chunk(0u, b * 4u + 3u);
    acc_a += block_dot4(ra, b, x0, x1, x2, x3);
    acc_b += block_dot4(rb, b, x0, x1, x2, x3);
  }
  for (var k8 = blocks * 4u; k8 * 8u < params.cols; k8++) {
    acc_a += tail_dot4(ra, k8);
    acc_b += tail_dot4(rb, k8);
  }
  store4(first, acc_a);
  store4(first + 4u, acc_b);
}

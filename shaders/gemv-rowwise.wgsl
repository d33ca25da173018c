// GEMV, barrier-free ("rowwise"): each invocation computes 8 rows of W, no shared memory, no barriers: the fast
// shape on CPU adapters (SwiftShader runs 4 invocations per SIMD group and turns every storage load into a per-lane
// gather, so what costs is the number of loads: 8 rows reuse each loaded chunk of x 8 times). Joined after
// gemv.wgsl, the activation and weight access files and gemv-block.wgsl, with one entry-point file:
// gemv-rowwise-plain.wgsl, or gemv-rowwise-subgroup.wgsl (which shares x loads across lanes). Both provide
// rowwise_x.
override WG: u32 = 64u;

// The x of one 32-column block, as four 8-element chunks.
struct RowwiseX {
  c0: mat2x4<f32>,
  c1: mat2x4<f32>,
  c2: mat2x4<f32>,
  c3: mat2x4<f32>,
}

// The kernel's work: rows first .. first+7, `lane` being the invocation's subgroup lane (0 without subgroups), for
// rowwise_x of the entry-point file.
fn rowwise_rows8(first: u32, lane: u32) {
  // Rows past the chunk repeat its last row (loads stay in bounds); their sums are not stored.
  let last = vec4<u32>(params.rows - 1u);
  let ra = min(vec4<u32>(first) + vec4<u32>(0u, 1u, 2u, 3u), last);
  let rb = min(vec4<u32>(first) + vec4<u32>(4u, 5u, 6u, 7u), last);
  var acc_a = vec4<f32>(0.0);
  var acc_b = vec4<f32>(0.0);
  let blocks = params.cols / 32u;
  for (var b = 0u; b < blocks; b++) {
    let x = rowwise_x(b, lane);
    acc_a += block_dot4(ra, b, x.c0, x.c1, x.c2, x.c3);
    acc_b += block_dot4(rb, b, x.c0, x.c1, x.c2, x.c3);
  }
  for (var k8 = blocks * 4u; k8 * 8u < params.cols; k8++) {
    acc_a += tail_dot4(ra, k8);
    acc_b += tail_dot4(rb, k8);
  }
  // store4 skips rows past the chunk, so invocations wholly past it store nothing.
  store4(first, acc_a);
  store4(first + 4u, acc_b);
}

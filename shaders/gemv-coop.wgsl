// GEMV, cooperative (llama.cpp style, for GPUs): four rows per workgroup of WG threads that split K. Thread t takes
// the 32-blocks t, t + WG, ..., loads its chunks of x once and reuses them for the four rows, so neighbouring threads
// read neighbouring blocks. This file holds the per-thread partial sums; the entry point that reduces them is
// gemv-coop-subgroup.wgsl (subgroupAdd) or gemv-coop-shared.wgsl (workgroup-memory tree). Joined with gemv.wgsl and
// the activation and weight access files by src/kernels/gemv.ts.
override WG: u32 = 64u;

// This thread's share of rows 4*group .. 4*group+3 (rows past the chunk repeat its last row; their sums are dropped).
fn gemv_partial(lid: u32, group: u32) -> vec4<f32> {
  let r = min(vec4<u32>(group * 4u) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(params.rows - 1u));
  let blocks = params.cols / 32u;
  var acc = vec4<f32>(0.0);
  for (var b = lid; b < blocks; b += WG) {
    acc += block_dot4(r, b, x_chunk(0u, b * 4u), x_chunk(0u, b * 4u + 1u), x_chunk(0u, b * 4u + 2u), x_chunk(0u, b * 4u + 3u));
  }
  // The partial chunks at the end of a float row (cols % 32 != 0), one per thread.
  for (var k8 = blocks * 4u + lid; k8 * 8u < params.cols; k8 += WG) {
    acc += tail_dot4(r, k8);
  }
  return acc;
}

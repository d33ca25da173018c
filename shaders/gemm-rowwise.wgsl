// GEMM, barrier-free register tiling ("rowwise"): each invocation computes a 4 x 4 tile of Y (activation rows
// i0..i0+3, weight rows r0..r0+3) in four vec4 accumulators, loading each 32-block of its four weight rows once,
// dequantizing it in registers and reusing every value four times. No shared memory, no barriers: the fast shape on
// CPU adapters. Neighbouring invocations take neighbouring weight-row tiles. Joined after gemm.wgsl and the
// activation and weight access files.
override WG_X: u32 = 16u;
override WG_Y: u32 = 4u;

// Chunk c (0..3) of block b for the whole tile.
fn block_step(i: vec4<u32>, b: u32, c: u32, wa: WBlock, wb: WBlock, wc: WBlock, wd: WBlock, d: vec4<f32>) -> mat4x4<f32> {
  let k8 = b * 4u + c;
  return tile8(
    x_chunk(i.x, k8), x_chunk(i.y, k8), x_chunk(i.z, k8), x_chunk(i.w, k8),
    w_chunk(wa, c, d.x), w_chunk(wb, c, d.y), w_chunk(wc, c, d.z), w_chunk(wd, c, d.w),
  );
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r0 = gid.x * 4u;
  let i0 = gid.y * 4u;
  if (r0 >= params.rows || i0 >= params.m) {
    return;
  }
  // Rows past the end repeat the last one: loads stay in bounds, their results are never stored.
  let r = min(vec4<u32>(r0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(params.rows - 1u));
  let i = min(vec4<u32>(i0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(params.m - 1u));
  var acc = mat4x4<f32>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  let blocks = params.cols / 32u;
  for (var b = 0u; b < blocks; b++) {
    let wa = w_block(r.x, b);
    let wb = w_block(r.y, b);
    let wc = w_block(r.z, b);
    let wd = w_block(r.w, b);
    let d = vec4<f32>(w_scale(r.x, b), w_scale(r.y, b), w_scale(r.z, b), w_scale(r.w, b));
    acc += block_step(i, b, 0u, wa, wb, wc, wd, d);
    acc += block_step(i, b, 1u, wa, wb, wc, wd, d);
    acc += block_step(i, b, 2u, wa, wb, wc, wd, d);
    acc += block_step(i, b, 3u, wa, wb, wc, wd, d);
  }
  // The partial chunks at the end of a float row (cols % 32 != 0).
  for (var k8 = blocks * 4u; k8 * 8u < params.cols; k8++) {
    acc += tile8(
      x_chunk_tail(i.x, k8), x_chunk_tail(i.y, k8), x_chunk_tail(i.z, k8), x_chunk_tail(i.w, k8),
      w_load8_tail(r.x, k8), w_load8_tail(r.y, k8), w_load8_tail(r.z, k8), w_load8_tail(r.w, k8),
    );
  }
  store_row(i0, r0, 1u, acc[0]);
  store_row(i0 + 1u, r0, 1u, acc[1]);
  store_row(i0 + 2u, r0, 1u, acc[2]);
  store_row(i0 + 3u, r0, 1u, acc[3]);
}

enable subgroups;
// GEMV for 2:4 sparse f32 weights on devices with subgroups, barrier-free ("rowwise"): each invocation computes 4 rows,
// no shared memory, no barriers. Same method as sparse-gemv-rowwise.wgsl (x at each kept value's column from the
// block's interpolation coefficients: sparse_dot), fewer rows: on SwiftShader f32 rows are costly to hold (most likely
// register spills: a block's 16 f32 values per row), so fewer rows per invocation run faster (4096x4096, one
// interleaved run: the generic kernel's 16 rows 28.4 ms, this one's 8 rows 21.4, 4 rows 15.0; 2 rows no faster than 4).
// With 4 rows a block's coefficients cost about as much as a row, so lane q of each four builds those of quad q alone,
// from the two x vec4s it loads, and passes them round by broadcast (14.1 ms against 15.0 for passing x round and
// building all four everywhere). Lanes 0..3 of each subgroup (WebGPU subgroups have at least 4) are the sources, so
// every lane must reach the loop: no early return. Must open the module (for `enable`); joined before gemm-x-vec4.wgsl
// (x, binding 0: cols % 4 == 0), gemv.wgsl (Params, out, store4), sparse-access.wgsl, sparse-pattern-2-4.wgsl and
// sparse-values-f32.wgsl (values used as stored: SV_LANE = 1, no scales). Devices without subgroups run the generic
// kernel.
override WG: u32 = 64u;

// vec4 v of x, or 0 past the row: the last, partial block (cols % 32 != 0) meets its stored zero padding with x = 0,
// so it needs no loop of its own.
fn sparse_f32_x(v: u32) -> vec4<f32> {
  let last = (params.cols >> 2u) - 1u;
  return select(vec4<f32>(0.0), x[min(v, last)], v <= last);
}

// Lane q's share of block b: the coefficients of quad q (slots of groups 2q and 2q + 1, x vec4s 2q and 2q + 1),
// whose fields lie in the low byte of a half-word for even q and in the high byte for odd q (sparse_dot).
fn sparse_f32_quad_coef(b: u32, q: u32) -> mat3x4<f32> {
  let v = b * 8u + q * 2u;
  return sp_quad_coef(sparse_f32_x(v), sparse_f32_x(v + 1u), select(SP_SCALE_LO, SP_SCALE_HI, (q & 1u) == 1u));
}

// All four quads' coefficients of block b, each built by one lane of the four.
fn sparse_f32_coef(b: u32, lane: u32) -> SXCoef {
  let c = sparse_f32_quad_coef(b, lane & 3u);
  return SXCoef(
    mat3x4<f32>(subgroupBroadcast(c[0], 0u), subgroupBroadcast(c[1], 0u), subgroupBroadcast(c[2], 0u)),
    mat3x4<f32>(subgroupBroadcast(c[0], 1u), subgroupBroadcast(c[1], 1u), subgroupBroadcast(c[2], 1u)),
    mat3x4<f32>(subgroupBroadcast(c[0], 2u), subgroupBroadcast(c[1], 2u), subgroupBroadcast(c[2], 2u)),
    mat3x4<f32>(subgroupBroadcast(c[0], 3u), subgroupBroadcast(c[1], 3u), subgroupBroadcast(c[2], 3u)),
  );
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(subgroup_invocation_id) sg_lane: u32,
) {
  let first = ((wg.y * params.grid_x + wg.x) * WG + lid) * 4u;
  // Rows past the chunk repeat its last row (loads stay in bounds); their sums are not stored.
  let r = min(vec4<u32>(first) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(params.rows - 1u));
  let r0 = sparse_row(r.x);
  let r1 = sparse_row(r.y);
  let r2 = sparse_row(r.z);
  let r3 = sparse_row(r.w);
  var acc = vec4<f32>(0.0);
  for (var b = 0u; b < sp_blocks(); b++) {
    let c = sparse_f32_coef(b, sg_lane);
    acc += vec4<f32>(sparse_dot(r0, b, c), sparse_dot(r1, b, c), sparse_dot(r2, b, c), sparse_dot(r3, b, c));
  }
  store4(first, acc);
}

// GEMV for N:M sparse weights, barrier-free ("rowwise"): each invocation computes 16 rows, no shared memory, no
// barriers (the fast shape on CPU adapters, like gemv-rowwise-q4-0.wgsl). Per 32-column block it loads x once, turns
// it into the pattern's interpolation coefficients once (sparse_x_coef, see sparse-access.wgsl) and runs every row
// against them (sparse_dot): per kept value a mask, a convert, two or three fma and the product, never a dense
// weight. Joined after gemm-x-vec4.wgsl (x, binding 0: cols % 4 == 0 for every pattern), gemv.wgsl (Params, out,
// store4) and the sparse access files.
override WG: u32 = 64u;

fn sparse_x_block(b: u32) -> SXBlock {
  let v = b * 8u;
  return SXBlock(
    mat4x4<f32>(x[v], x[v + 1u], x[v + 2u], x[v + 3u]),
    mat4x4<f32>(x[v + 4u], x[v + 5u], x[v + 6u], x[v + 7u]),
  );
}

// vec4 v of x, or 0 past the row (no read past it).
fn sparse_x_tail(v: u32) -> vec4<f32> {
  let last = (params.cols >> 2u) - 1u;
  return select(vec4<f32>(0.0), x[min(v, last)], v <= last);
}

// The row's last, partial block (cols % 32 != 0): x past cols reads as 0, meeting the stored zero padding.
fn sparse_x_block_tail(b: u32) -> SXBlock {
  let v = b * 8u;
  return SXBlock(
    mat4x4<f32>(sparse_x_tail(v), sparse_x_tail(v + 1u), sparse_x_tail(v + 2u), sparse_x_tail(v + 3u)),
    mat4x4<f32>(sparse_x_tail(v + 4u), sparse_x_tail(v + 5u), sparse_x_tail(v + 6u), sparse_x_tail(v + 7u)),
  );
}

// Where four rows start in each plane.
struct SRow4 {
  a: SRow,
  b: SRow,
  c: SRow,
  d: SRow,
}

fn sparse_rows4(r: vec4<u32>) -> SRow4 {
  return SRow4(sparse_row(r.x), sparse_row(r.y), sparse_row(r.z), sparse_row(r.w));
}

fn sparse_dot4(r: SRow4, b: u32, c: SXCoef) -> vec4<f32> {
  return vec4<f32>(sparse_dot(r.a, b, c), sparse_dot(r.b, b, c), sparse_dot(r.c, b, c), sparse_dot(r.d, b, c));
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let first = ((wg.y * params.grid_x + wg.x) * WG + lid) * 16u;
  if (first >= params.rows) {
    return;
  }
  // Rows past the chunk repeat its last row (loads stay in bounds); their sums are not stored.
  let last = vec4<u32>(params.rows - 1u);
  let ra = sparse_rows4(min(vec4<u32>(first) + vec4<u32>(0u, 1u, 2u, 3u), last));
  let rb = sparse_rows4(min(vec4<u32>(first) + vec4<u32>(4u, 5u, 6u, 7u), last));
  let rc = sparse_rows4(min(vec4<u32>(first) + vec4<u32>(8u, 9u, 10u, 11u), last));
  let rd = sparse_rows4(min(vec4<u32>(first) + vec4<u32>(12u, 13u, 14u, 15u), last));
  var acc_a = vec4<f32>(0.0);
  var acc_b = vec4<f32>(0.0);
  var acc_c = vec4<f32>(0.0);
  var acc_d = vec4<f32>(0.0);
  let full = params.cols >> 5u;
  for (var b = 0u; b < full; b++) {
    let c = sparse_x_coef(sparse_x_block(b), b);
    acc_a += sparse_dot4(ra, b, c);
    acc_b += sparse_dot4(rb, b, c);
    acc_c += sparse_dot4(rc, b, c);
    acc_d += sparse_dot4(rd, b, c);
  }
  // At most one partial block: a loop, not a branch, so rows without one skip it at no cost.
  for (var b = full; b * 32u < params.cols; b++) {
    let c = sparse_x_coef(sparse_x_block_tail(b), b);
    acc_a += sparse_dot4(ra, b, c);
    acc_b += sparse_dot4(rb, b, c);
    acc_c += sparse_dot4(rc, b, c);
    acc_d += sparse_dot4(rd, b, c);
  }
  store4(first, acc_a);
  store4(first + 4u, acc_b);
  store4(first + 8u, acc_c);
  store4(first + 12u, acc_d);
}

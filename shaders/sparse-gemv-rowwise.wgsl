// GEMV for N:M sparse weights, barrier-free ("rowwise"): each invocation computes 16 rows, no shared memory, no
// barriers (the fast shape on CPU adapters, like gemv-rowwise-raw.wgsl). Per 32-column block it loads x once, turns
// it into the pattern's interpolation coefficients once (sparse_x_coef, see sparse-access.wgsl) and runs every row
// against them (sparse_dot): per kept value a mask, a convert, two or three fma and the product, never a dense
// weight. Blocks go in pairs so that each row loads and unpacks one scale word per pair (q8_0 / q4_0: the f16
// unpack costs as much as a quad's values on SwiftShader); one block's coefficients are live at a time (holding two
// sets made the f32 kernel a quarter slower). Joined after gemm-x-vec4.wgsl (x, binding 0: cols % 4 == 0 for every
// pattern), gemv.wgsl (Params, out, store4) and the sparse access files, with one entry-point file:
// sparse-gemv-rowwise-plain.wgsl or sparse-gemv-rowwise-subgroup.wgsl (which provide sparse_x_full). With subgroups,
// 2:4 f32 weights take sparse-gemv-rowwise-f32.wgsl instead (4 rows per invocation).
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

// Raw sums (before scales) of rows r over block b.
fn sparse_dot4(r: SRow4, b: u32, c: SXCoef) -> vec4<f32> {
  return vec4<f32>(sparse_dot(r.a, b, c), sparse_dot(r.b, b, c), sparse_dot(r.c, b, c), sparse_dot(r.d, b, c));
}

// Rows r over blocks 2p and 2p + 1 from their raw sums s, t: one scale word per row and pair, as the dense q4_0 GEMV.
fn sparse_scale_pair(s: u32, p: u32, a: f32, b: f32) -> f32 {
  let d = sv_scale2(s, p);
  return fma(d.x, a, d.y * b);
}

fn sparse_scale_pair4(r: SRow4, p: u32, s: vec4<f32>, t: vec4<f32>) -> vec4<f32> {
  return vec4<f32>(
    sparse_scale_pair(r.a.s, p, s.x, t.x),
    sparse_scale_pair(r.b.s, p, s.y, t.y),
    sparse_scale_pair(r.c.s, p, s.z, t.z),
    sparse_scale_pair(r.d.s, p, s.w, t.w),
  );
}

// Rows r over block b alone.
fn sparse_single(r: SRow, b: u32, c: SXCoef) -> f32 {
  return sparse_dot(r, b, c) * sv_scale(r.s, b);
}

fn sparse_single4(r: SRow4, b: u32, c: SXCoef) -> vec4<f32> {
  return vec4<f32>(sparse_single(r.a, b, c), sparse_single(r.b, b, c), sparse_single(r.c, b, c), sparse_single(r.d, b, c));
}

// The kernel's work: rows first .. first+15, `lane` being the invocation's subgroup lane (0 without subgroups),
// for sparse_x_full of the entry-point file.
fn sparse_rows16(first: u32, lane: u32) {
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
  for (var p = 0u; p < (full >> 1u); p++) {
    // Block 2p, then 2p + 1, against one set of coefficients at a time; the scales of both at the end.
    var c = sparse_x_coef(sparse_x_full(2u * p, lane), 2u * p);
    let sa = sparse_dot4(ra, 2u * p, c);
    let sb = sparse_dot4(rb, 2u * p, c);
    let sc = sparse_dot4(rc, 2u * p, c);
    let sd = sparse_dot4(rd, 2u * p, c);
    c = sparse_x_coef(sparse_x_full(2u * p + 1u, lane), 2u * p + 1u);
    acc_a += sparse_scale_pair4(ra, p, sa, sparse_dot4(ra, 2u * p + 1u, c));
    acc_b += sparse_scale_pair4(rb, p, sb, sparse_dot4(rb, 2u * p + 1u, c));
    acc_c += sparse_scale_pair4(rc, p, sc, sparse_dot4(rc, 2u * p + 1u, c));
    acc_d += sparse_scale_pair4(rd, p, sd, sparse_dot4(rd, 2u * p + 1u, c));
  }
  // What the pairs leave: a last full block, a partial one (x past cols reads as 0, meeting the stored zero
  // padding), or both. A loop, not a branch, so rows without one skip it at no cost.
  for (var b = full & ~1u; b * 32u < params.cols; b++) {
    let c = sparse_x_coef(sparse_x_block_tail(b), b);
    acc_a += sparse_single4(ra, b, c);
    acc_b += sparse_single4(rb, b, c);
    acc_c += sparse_single4(rc, b, c);
    acc_d += sparse_single4(rd, b, c);
  }
  store4(first, acc_a);
  store4(first + 4u, acc_b);
  store4(first + 8u, acc_c);
  store4(first + 12u, acc_d);
}

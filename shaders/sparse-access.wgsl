// Shared part of the N:M sparse weight access (layout: src/loaders/sparse-nm.ts), joined by
// src/kernels/sparse-weights.ts with one pattern file (sparse-pattern-<n>-<m>.wgsl: KEPT, the positions binding 2,
// sp_row_words, SPos, sp_block, w_chunk, and the rowwise GEMV's SXCoef / sparse_x_coef / sparse_dot) and one value
// file (sparse-values-<type>.wgsl: bindings 3.., the uniform, sv_row_words, SVals, sv_block, sv_quad, SV_LANE,
// sv_quads16 / sv_quads8, sv_scale, sv_scale2).
//
// Two ways in. (1) The weight-access interface of the dense matmul kernels (w_block / w_scale / w_chunk /
// w_load8_tail, see weights-*.wgsl): w_chunk writes a block's kept values out as dense columns, so gemv-coop and
// both GEMMs run on sparse weights unchanged. (2) The rowwise GEMV (sparse-gemv-rowwise.wgsl), which never
// decompresses: it picks the activation at each kept value's column. On SwiftShader a select is three bit
// operations plus the compare per level, and a dynamic vector index twelve, so instead the x of each group is turned
// once per block into the coefficients of a polynomial through its values (shared by every row of the invocation),
// and each kept value's x is that polynomial at its position: a mask, a convert and two (3 nodes: 2:4, whose sorted
// slots each have 3 possible columns) or three fma (4 nodes; groups of 8 take one cubic per half and pick the half
// exactly). Positions and quantized codes are read "in place" (masked, not shifted: a field at bit s is read as its
// value times 2^s), the 2^-s folded into the coefficients: SwiftShader runs vector shifts lane by lane, so hot paths
// shift at most once per word. Rounding: an interpolated x is off by a few tens of ulps of the largest |x| in its
// group at most (simulated: up to ~15 for the quadratic, ~100 for the cubic), far below the tests' 2e-5 and the
// f16/q8/q4 weights' own error; activation outliers 3000x the rest keep GEMV errors near 1e-6 of the output scale.

// Where a row starts in each plane, in words: computed once per row (multiplies and shifts only: a SIMD integer
// divide is four scalar ones on a CPU adapter).
struct SRow {
  p: u32,
  v: u32,
  s: u32,
}

// 32-column blocks per row (the last may be partial; its padding holds zeros).
fn sp_blocks() -> u32 {
  return (params.cols + 31u) >> 5u;
}

fn sparse_row(row: u32) -> SRow {
  return SRow(row * sp_row_words(), row * sv_row_words(), row * ((sp_blocks() + 1u) >> 1u));
}

// A block of a sparse row as the dense kernels handle it: where its values start and its positions.
struct SBlock {
  v: SVals,
  p: SPos,
}

alias WBlock = SBlock;
// What w_scale gives and w_chunk takes (the dense kernels' WScale): one f32 for every sparse value type.
alias WScale = f32;

fn w_block(row: u32, blk: u32) -> WBlock {
  let r = sparse_row(row);
  return SBlock(sv_block(r.v, blk), sp_block(r.p, blk));
}

// The block scale: d for q8_0 / q4_0, 1 for floats.
fn w_scale(row: u32, blk: u32) -> WScale {
  return sv_scale(sparse_row(row).s, blk);
}

// Elements 8*k8 .. 8*k8+7 of a row whose end lies inside them: the padding past cols is stored as zeros.
fn w_load8_tail(row: u32, k8: u32) -> mat2x4<f32> {
  let b = k8 >> 2u;
  return w_chunk(w_block(row, b), k8 & 3u, w_scale(row, b));
}

// Writing kept values out as dense columns (w_chunk): a position field is compared where it lies (masked, not
// shifted) against the lane numbers shifted alike, 4^j or 8^j times 0..3 (and 4..7) for field j of a chunk.
const SP_L0 = vec4<i32>(0, 1, 2, 3);
const SP_L1 = vec4<i32>(0, 4, 8, 12);
const SP_L2 = vec4<i32>(0, 16, 32, 48);
const SP_L3 = vec4<i32>(0, 64, 128, 192);
const SP8_L0 = mat2x4<f32>(0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0);
const SP8_L1 = SP8_L0 * 8.0;
const SP8_L2 = SP8_L0 * 64.0;
const SP8_L3 = SP8_L0 * 512.0;

// v at the lane whose (shifted) number equals the field f, 0 elsewhere.
fn sp_at(v: f32, f: i32, lanes: vec4<i32>) -> vec4<f32> {
  return select(vec4<f32>(0.0), vec4<f32>(v), vec4<i32>(f) == lanes);
}

// The same over a group of 8 (lanes as f32: exact small integers).
fn sp_at8(v: f32, f: i32, lanes: mat2x4<f32>) -> mat2x4<f32> {
  let g = vec4<f32>(f32(f));
  let z = vec4<f32>(0.0);
  return mat2x4<f32>(select(z, vec4<f32>(v), g == lanes[0]), select(z, vec4<f32>(v), g == lanes[1]));
}

// ---- Rowwise GEMV helpers ----

// The x of one 32-column block: columns of lo are its vec4s 0..3, of hi 4..7.
struct SXBlock {
  lo: mat4x4<f32>,
  hi: mat4x4<f32>,
}

// acc + dot(a, b) as one fma chain.
fn sp_dot4_acc(acc: f32, a: vec4<f32>, b: vec4<f32>) -> f32 {
  return fma(a.w, b.w, fma(a.z, b.z, fma(a.y, b.y, fma(a.x, b.x, acc))));
}

// Lane by lane, the cubic through (0, n0), (1, n1), (2, n2), (3, n3) as columns c0 + c1 t + c2 t^2 + c3 t^3 (from
// its forward differences).
fn sp_cubic(n0: vec4<f32>, n1: vec4<f32>, n2: vec4<f32>, n3: vec4<f32>) -> mat4x4<f32> {
  let d1 = n1 - n0;
  let d2 = (n2 - n1) - d1;
  let d3 = (n3 - n0) + 3.0 * (n1 - n2);
  return mat4x4<f32>(n0, d1 - 0.5 * d2 + d3 * (1.0 / 3.0), 0.5 * (d2 - d3), d3 * (1.0 / 6.0));
}

// Coefficients c of a polynomial in t, for evaluation at f = t / s with the result scaled by SV_LANE (the value
// file's in-place scale of the quad's values): c_k * s^k * SV_LANE. All powers of two: exact.
fn sp_scaled(c: mat4x4<f32>, s: vec4<f32>) -> mat4x4<f32> {
  let s2 = s * s;
  return mat4x4<f32>(c[0] * SV_LANE, c[1] * s * SV_LANE, c[2] * s2 * SV_LANE, c[3] * s2 * s * SV_LANE);
}

fn sp_cubic_at(c: mat4x4<f32>, f: vec4<f32>) -> vec4<f32> {
  return fma(fma(fma(c[3], f, c[2]), f, c[1]), f, c[0]);
}

// Groups of 8 (patterns n:8): a kept value's 3-bit position is p = 4h + l. Its x is the cubic through the group's
// low four x at l, or through its high four, picked exactly by h in {0, 1} (h * hi + (lo - h * lo)).
struct SXQuad8 {
  lo: mat4x4<f32>,
  hi: mat4x4<f32>,
}

// A quad's four 3-bit fields at bits 3j (word shifted to the quad): l in place (f = l * 8^j) and h * 4 * 8^j.
const SP8_LO_MASK = vec4<i32>(3, 24, 192, 1536);
const SP8_HI_MASK = vec4<i32>(4, 32, 256, 2048);
const SP8_LANE_SCALE = vec4<f32>(1.0, 0.125, 0.015625, 0.001953125);
const SP8_HI_SCALE = vec4<f32>(0.25, 0.03125, 0.00390625, 0.00048828125);

// Coefficients of a quad whose lanes 0, 1 belong to group a (x vec4s a_lo, a_hi) and lanes 2, 3 to group b.
fn sp_quad8(a_lo: vec4<f32>, a_hi: vec4<f32>, b_lo: vec4<f32>, b_hi: vec4<f32>) -> SXQuad8 {
  let lo = sp_cubic(
    vec4<f32>(a_lo.xx, b_lo.xx),
    vec4<f32>(a_lo.yy, b_lo.yy),
    vec4<f32>(a_lo.zz, b_lo.zz),
    vec4<f32>(a_lo.ww, b_lo.ww),
  );
  let hi = sp_cubic(
    vec4<f32>(a_hi.xx, b_hi.xx),
    vec4<f32>(a_hi.yy, b_hi.yy),
    vec4<f32>(a_hi.zz, b_hi.zz),
    vec4<f32>(a_hi.ww, b_hi.ww),
  );
  return SXQuad8(sp_scaled(lo, SP8_LANE_SCALE), sp_scaled(hi, SP8_LANE_SCALE));
}

// acc + the quad's four values v (in place, see SV_LANE) against x at their positions (fields of p, quad-aligned).
fn sp_quad8_dot(acc: f32, v: vec4<f32>, p: u32, c: SXQuad8) -> f32 {
  let q = vec4<i32>(bitcast<i32>(p));
  let f = vec4<f32>(q & SP8_LO_MASK);
  let h = vec4<f32>(q & SP8_HI_MASK) * SP8_HI_SCALE;
  let lo = sp_cubic_at(c.lo, f);
  return sp_dot4_acc(acc, v, fma(h, sp_cubic_at(c.hi, f), fma(-h, lo, lo)));
}

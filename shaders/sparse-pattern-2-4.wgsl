// N:M pattern 2:4 of sparse weights (layout: src/loaders/sparse-nm.ts): 16 kept values per 32-column block, kept
// k = 2g + j being slot j of group g, whose 2-bit position fills bits 2k of the block's one position word. Joined by
// src/kernels/sparse-weights.ts with sparse-access.wgsl (which says what each function here is for) and a value file.
const KEPT: u32 = 16u;

@group(0) @binding(2) var<storage, read> positions: array<u32>;

// Words of positions per row, and a block's (p: the row's first word).
fn sp_row_words() -> u32 {
  return sp_blocks();
}

alias SPos = u32;

fn sp_block(p: u32, blk: u32) -> SPos {
  return positions[p + blk];
}

// Dense columns 8c .. 8c+7 of a block (groups 2c and 2c+1: kept 4c .. 4c+3), scaled by d.
fn w_chunk(w: WBlock, c: u32, d: WScale) -> mat2x4<f32> {
  let v = sv_quad(w.v, c) * d;
  let p = bitcast<i32>(w.p >> (8u * c));
  return mat2x4<f32>(
    sp_at(v.x, p & 3, SP_L0) + sp_at(v.y, p & 12, SP_L1),
    sp_at(v.z, p & 48, SP_L2) + sp_at(v.w, p & 192, SP_L3),
  );
}

// ---- Rowwise GEMV: quad q = kept 4q .. 4q+3 = slots 0, 1 of groups 2q and 2q+1 ----

// Lane j's 2-bit field of quad q at bits 8(q % 2) + 2j of a half-word (the word, or the word >> 16 for quads 2, 3),
// read in place, and the 4^-(4(q % 2) + j) that undoes it.
const SP_MASK_LO = vec4<i32>(3, 12, 48, 192);
const SP_MASK_HI = vec4<i32>(768, 3072, 12288, 49152);
const SP_SCALE_LO = vec4<f32>(1.0, 0.25, 0.0625, 0.015625);
const SP_SCALE_HI = vec4<f32>(0.00390625, 0.0009765625, 0.000244140625, 0.00006103515625);
// Slots ascend, so slot 0 lies at p in 0..2 and slot 1 at 1..3: three nodes each, starting here.
const SP_FIRST = vec4<f32>(0.0, 1.0, 0.0, 1.0);

struct SXCoef {
  q0: mat3x4<f32>,
  q1: mat3x4<f32>,
  q2: mat3x4<f32>,
  q3: mat3x4<f32>,
}

// Lanes (a slot 0, a slot 1, b slot 0, b slot 1) for groups with x a and b: the quadratic through the slot's three
// nodes (t0, n0), (t0+1, n1), (t0+2, n2) in powers of p, then of the in-place f = p / s, times SV_LANE.
fn sp_quad_coef(a: vec4<f32>, b: vec4<f32>, s: vec4<f32>) -> mat3x4<f32> {
  let n0 = vec4<f32>(a.xy, b.xy);
  let n1 = vec4<f32>(a.yz, b.yz);
  let n2 = vec4<f32>(a.zw, b.zw);
  let d1 = n1 - n0;
  let c2 = 0.5 * ((n2 - n1) - d1);
  let t = SP_FIRST;
  let c1 = d1 - (2.0 * t + 1.0) * c2;
  let c0 = n0 - t * d1 + t * (t + 1.0) * c2;
  return mat3x4<f32>(c0 * SV_LANE, c1 * s * SV_LANE, c2 * s * s * SV_LANE);
}

fn sparse_x_coef(x: SXBlock, blk: u32) -> SXCoef {
  return SXCoef(
    sp_quad_coef(x.lo[0], x.lo[1], SP_SCALE_LO),
    sp_quad_coef(x.lo[2], x.lo[3], SP_SCALE_HI),
    sp_quad_coef(x.hi[0], x.hi[1], SP_SCALE_LO),
    sp_quad_coef(x.hi[2], x.hi[3], SP_SCALE_HI),
  );
}

// acc + the quad's four values v (in place) against x at their positions (p masked in place by the caller).
fn sp_quad_dot(acc: f32, v: vec4<f32>, p: vec4<i32>, c: mat3x4<f32>) -> f32 {
  let f = vec4<f32>(p);
  return sp_dot4_acc(acc, v, fma(fma(c[2], f, c[1]), f, c[0]));
}

// Row r of the chunk against x over block blk, whose coefficients are c, before the block's scale (sv_scale).
fn sparse_dot(r: SRow, blk: u32, c: SXCoef) -> f32 {
  let w = sp_block(r.p, blk);
  let lo = vec4<i32>(bitcast<i32>(w));
  let hi = vec4<i32>(bitcast<i32>(w >> 16u));
  let v = sv_quads16(r.v, blk);
  var acc = sp_quad_dot(0.0, v[0], lo & SP_MASK_LO, c.q0);
  acc = sp_quad_dot(acc, v[1], lo & SP_MASK_HI, c.q1);
  acc = sp_quad_dot(acc, v[2], hi & SP_MASK_LO, c.q2);
  acc = sp_quad_dot(acc, v[3], hi & SP_MASK_HI, c.q3);
  return acc;
}

// N:M pattern 4:8 of sparse weights (layout: src/loaders/sparse-nm.ts): 16 kept values per 32-column block, kept
// k = 4g + j being slot j of group g (8 columns), its 3-bit position at bits 3(k % 8) of the block's position word
// k / 8 (two words per block, bits 24..31 unused). Joined by src/kernels/sparse-weights.ts with sparse-access.wgsl
// (which says what each function here is for) and a value file.
const KEPT: u32 = 16u;

@group(0) @binding(2) var<storage, read> positions: array<u32>;

// Words of positions per row, and a block's two (p: the row's first word).
fn sp_row_words() -> u32 {
  return sp_blocks() * 2u;
}

alias SPos = vec2<u32>;

fn sp_block(p: u32, blk: u32) -> SPos {
  let i = p + blk * 2u;
  return vec2<u32>(positions[i], positions[i + 1u]);
}

// Dense columns 8c .. 8c+7 of a block (group c: quad c), scaled by d.
fn w_chunk(w: WBlock, c: u32, d: WScale) -> mat2x4<f32> {
  let v = sv_quad(w.v, c) * d;
  let p = bitcast<i32>(select(w.p.x, w.p.y, c >= 2u) >> (12u * (c & 1u)));
  return sp_at8(v.x, p & 7, SP8_L0) + sp_at8(v.y, p & 56, SP8_L1) + sp_at8(v.z, p & 448, SP8_L2) +
    sp_at8(v.w, p & 3584, SP8_L3);
}

// ---- Rowwise GEMV: quad q = kept 4q .. 4q+3 = the slots of group q ----

struct SXCoef {
  q0: SXQuad8,
  q1: SXQuad8,
  q2: SXQuad8,
  q3: SXQuad8,
}

// Group g's x is vec4s 2g (low four) and 2g+1 of the block; all four lanes of its quad share it.
fn sparse_x_coef(x: SXBlock, blk: u32) -> SXCoef {
  return SXCoef(
    sp_quad8(x.lo[0], x.lo[1], x.lo[0], x.lo[1]),
    sp_quad8(x.lo[2], x.lo[3], x.lo[2], x.lo[3]),
    sp_quad8(x.hi[0], x.hi[1], x.hi[0], x.hi[1]),
    sp_quad8(x.hi[2], x.hi[3], x.hi[2], x.hi[3]),
  );
}

// Row r of the chunk against x over block blk, whose coefficients are c, before the block's scale (sv_scale).
fn sparse_dot(r: SRow, blk: u32, c: SXCoef) -> f32 {
  let p = sp_block(r.p, blk);
  let v = sv_quads16(r.v, blk);
  var acc = sp_quad8_dot(0.0, v[0], p.x, c.q0);
  acc = sp_quad8_dot(acc, v[1], p.x >> 12u, c.q1);
  acc = sp_quad8_dot(acc, v[2], p.y, c.q2);
  acc = sp_quad8_dot(acc, v[3], p.y >> 12u, c.q3);
  return acc;
}

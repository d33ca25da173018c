// N:M pattern 2:8 of sparse weights (layout: src/loaders/sparse-nm.ts): 8 kept values per 32-column block, kept
// k = 2g + j being slot j of group g (8 columns), its 3-bit position at bits 3k of the block's one position word
// (bits 24..31 unused). Joined by src/kernels/sparse-weights.ts with sparse-access.wgsl (which says what each
// function here is for) and a value file.
const KEPT: u32 = 8u;

@group(0) @binding(2) var<storage, read> positions: array<u32>;

// Words of positions per row, and a block's (p: the row's first word).
fn sp_row_words() -> u32 {
  return sp_blocks();
}

alias SPos = u32;

fn sp_block(p: u32, blk: u32) -> SPos {
  return positions[p + blk];
}

// Dense columns 8c .. 8c+7 of a block (group c: kept 2c and 2c+1, half of quad c/2), scaled by d.
fn w_chunk(w: WBlock, c: u32, d: WScale) -> mat2x4<f32> {
  let q = sv_quad(w.v, c >> 1u) * d;
  let v = select(q.xy, q.zw, (c & 1u) == 1u);
  let p = bitcast<i32>(w.p >> (6u * c));
  return sp_at8(v.x, p & 7, SP8_L0) + sp_at8(v.y, p & 56, SP8_L1);
}

// ---- Rowwise GEMV: quad q = kept 4q .. 4q+3 = slots 0, 1 of groups 2q and 2q+1 ----

struct SXCoef {
  q0: SXQuad8,
  q1: SXQuad8,
}

// Group g's x is vec4s 2g (low four) and 2g+1 of the block.
fn sparse_x_coef(x: SXBlock, blk: u32) -> SXCoef {
  return SXCoef(sp_quad8(x.lo[0], x.lo[1], x.lo[2], x.lo[3]), sp_quad8(x.hi[0], x.hi[1], x.hi[2], x.hi[3]));
}

// Row r of the chunk against x over block blk, whose coefficients are c, before the block's scale (sv_scale).
fn sparse_dot(r: SRow, blk: u32, c: SXCoef) -> f32 {
  let p = sp_block(r.p, blk);
  let v = sv_quads8(r.v, blk);
  let acc = sp_quad8_dot(0.0, v[0], p, c.q0);
  return sp_quad8_dot(acc, v[1], p >> 12u, c.q1);
}

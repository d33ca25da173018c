// N:M pattern 1:4 of sparse weights (layout: src/loaders/sparse-nm.ts): 8 kept values per 32-column block, kept k
// being group k's only slot, its 2-bit position at bits 2k of the block's 16 position bits (blocks 2i and 2i+1 share
// a word, low half first). Joined by src/kernels/sparse-weights.ts with sparse-access.wgsl (which says what each
// function here is for) and a value file.
const KEPT: u32 = 8u;

@group(0) @binding(2) var<storage, read> positions: array<u32>;

// Words of positions per row.
fn sp_row_words() -> u32 {
  return (sp_blocks() + 1u) >> 1u;
}

// A block's 16 position bits, in the low half (the high half may hold the next block's); p: the row's first word.
alias SPos = u32;

fn sp_block(p: u32, blk: u32) -> SPos {
  return positions[p + (blk >> 1u)] >> ((blk & 1u) << 4u);
}

// Dense columns 8c .. 8c+7 of a block (groups 2c and 2c+1: kept 2c and 2c+1, half of quad c/2), scaled by d.
fn w_chunk(w: WBlock, c: u32, d: WScale) -> mat2x4<f32> {
  let q = sv_quad(w.v, c >> 1u) * d;
  let v = select(q.xy, q.zw, (c & 1u) == 1u);
  let p = bitcast<i32>(w.p >> (4u * c));
  return mat2x4<f32>(sp_at(v.x, p & 3, SP_L0), sp_at(v.y, p & 12, SP_L1));
}

// ---- Rowwise GEMV: quad q = kept 4q .. 4q+3 = groups 4q .. 4q+3 ----

// Lane j's 2-bit field of quad q at bits 8q + 2j of the block's half-word, read in place, and the 4^-(4q + j) that
// undoes it.
const SP_MASK_LO = vec4<i32>(3, 12, 48, 192);
const SP_MASK_HI = vec4<i32>(768, 3072, 12288, 49152);
const SP_SCALE_LO = vec4<f32>(1.0, 0.25, 0.0625, 0.015625);
const SP_SCALE_HI = vec4<f32>(0.00390625, 0.0009765625, 0.000244140625, 0.00006103515625);

struct SXCoef {
  q0: mat4x4<f32>,
  q1: mat4x4<f32>,
}

// Lane j of quad q is group 4q + j, whose x is column j of x.lo (q = 0) or x.hi: the cubic through its four values
// takes the matrix's rows as nodes.
fn sparse_x_coef(x: SXBlock, blk: u32) -> SXCoef {
  let a = transpose(x.lo);
  let b = transpose(x.hi);
  return SXCoef(
    sp_scaled(sp_cubic(a[0], a[1], a[2], a[3]), SP_SCALE_LO),
    sp_scaled(sp_cubic(b[0], b[1], b[2], b[3]), SP_SCALE_HI),
  );
}

// Row r of the chunk against x over block blk, whose coefficients are c, before the block's scale (sv_scale).
fn sparse_dot(r: SRow, blk: u32, c: SXCoef) -> f32 {
  let w = positions[r.p + (blk >> 1u)];
  // Odd blocks hold the high half: one select rather than a shift by a runtime amount.
  let p = vec4<i32>(bitcast<i32>(select(w, w >> 16u, (blk & 1u) == 1u)));
  let v = sv_quads8(r.v, blk);
  let acc = sp_dot4_acc(0.0, v[0], sp_cubic_at(c.q0, vec4<f32>(p & SP_MASK_LO)));
  return sp_dot4_acc(acc, v[1], sp_cubic_at(c.q1, vec4<f32>(p & SP_MASK_HI)));
}

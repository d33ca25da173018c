// Kept-value access of N:M sparse weights holding q4_0 codes (layout: src/loaders/sparse-nm.ts), joined by
// src/kernels/sparse-weights.ts like sparse-values-f32.wgsl. Values are a row-long stream of the source's unsigned
// nibbles, 8 per word (kept 8i+e at bits 4e), so a block's KEPT codes are one or two words (a quad is half a word);
// scales are the dense planes' f16 d per 32-column block, 2 per word. Quads give q - 8, sv_scale d:
// value = (q - 8) * d. Declares the values and scales bindings and, after them, the uniform (the last binding).
// Offsets are in words.
@group(0) @binding(3) var<storage, read> values: array<u32>;
@group(0) @binding(4) var<storage, read> scales: array<u32>;
@group(0) @binding(5) var<uniform> params: Params;

// Words of values per row.
fn sv_row_words() -> u32 {
  return sp_blocks() * (KEPT / 8u);
}

// A block for the dense kernels' interface is its first word: sv_quad loads the word it needs where it is used.
alias SVals = u32;

fn sv_block(v: u32, blk: u32) -> SVals {
  return v + blk * (KEPT / 8u);
}

// Kept codes 4i .. 4i+3 of a block as q - 8 (the in-place decode below, its 16^j undone: exact).
fn sv_quad(b: SVals, i: u32) -> vec4<f32> {
  let w = values[b + (i >> 1u)];
  return sv_q4_place(select(w, w >> 16u, (i & 1u) == 1u)) * SV_LANE;
}

// ---- Rowwise GEMV: codes decoded in place (no per-lane shifts, which SwiftShader emulates lane by lane) ----

// Nibble j of a half-word masked where it lies is q * 16^j. The exponent of 2^23 ORed in first (one scalar OR per
// half-word, kept by the mask) makes the masked bits the f32 2^23 + q * 16^j with no convert; less 2^23 + 8 * 16^j it
// is (q - 8) * 16^j (all exact in f32). The x a quad meets is scaled by SV_LANE = 16^-j (folded into the
// interpolation coefficients).
const SV_LANE = vec4<f32>(1.0, 0.0625, 0.00390625, 0.000244140625);
const SV_Q4_EXP = 0x4b000000u;
const SV_Q4_MASK = vec4<u32>(0x4b00000fu, 0x4b0000f0u, 0x4b000f00u, 0x4b00f000u);
const SV_Q4_ZERO = vec4<f32>(8388616.0, 8388736.0, 8390656.0, 8421376.0);

fn sv_q4_place(w: u32) -> vec4<f32> {
  return bitcast<vec4<f32>>(vec4<u32>(w | SV_Q4_EXP) & SV_Q4_MASK) - SV_Q4_ZERO;
}

// All kept codes of block blk of the row at word v, four per column, in place (KEPT = 16 or 8): one shift per word.
fn sv_quads16(v: u32, blk: u32) -> mat4x4<f32> {
  let i = v + blk * 2u;
  let a = values[i];
  let b = values[i + 1u];
  return mat4x4<f32>(sv_q4_place(a), sv_q4_place(a >> 16u), sv_q4_place(b), sv_q4_place(b >> 16u));
}

fn sv_quads8(v: u32, blk: u32) -> mat2x4<f32> {
  let a = values[v + blk];
  return mat2x4<f32>(sv_q4_place(a), sv_q4_place(a >> 16u));
}

// The f16 d of block blk of the row at word s of the scales plane (2 per word).
fn sv_scale(s: u32, blk: u32) -> f32 {
  let pair = unpack2x16float(scales[s + (blk >> 1u)]);
  return select(pair.x, pair.y, (blk & 1u) == 1u);
}

// The d of blocks 2p and 2p + 1: one load and one unpack for both.
fn sv_scale2(s: u32, p: u32) -> vec2<f32> {
  return unpack2x16float(scales[s + p]);
}

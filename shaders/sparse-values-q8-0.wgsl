// Kept-value access of N:M sparse weights holding q8_0 codes (layout: src/loaders/sparse-nm.ts), joined by
// src/kernels/sparse-weights.ts like sparse-values-f32.wgsl. Values are a row-long stream of the source's int8
// codes, 4 per word (kept 4i in bits 0..7), so a quad of kept values is one word; scales are the dense planes' f16 d
// per 32-column block, 2 per word. Quads give codes, sv_scale d: value = q * d. Declares the values and scales
// bindings and, after them, the uniform (the last binding). Offsets are in words.
@group(0) @binding(3) var<storage, read> values: array<u32>;
@group(0) @binding(4) var<storage, read> scales: array<u32>;
@group(0) @binding(5) var<uniform> params: Params;

// Words of values per row.
fn sv_row_words() -> u32 {
  return sp_blocks() * (KEPT / 4u);
}

// A block for the dense kernels' interface is its first word: sv_quad loads the word it needs where it is used.
alias SVals = u32;

fn sv_block(v: u32, blk: u32) -> SVals {
  return v + blk * (KEPT / 4u);
}

// Kept codes 4i .. 4i+3 of a block (the in-place decode below, its 256^j undone: exact).
fn sv_quad(b: SVals, i: u32) -> vec4<f32> {
  return sv_q8_place(values[b + i]) * SV_LANE;
}

// ---- Rowwise GEMV: codes decoded in place (no per-lane shifts, which SwiftShader emulates lane by lane) ----

// Byte j masked where it lies, with its top bit flipped (bytes 0..2), is (q + 128) * 256^j; less 128 * 256^j it is
// q * 256^j. Byte 3 masked in place is already q * 2^24 as an i32. All exact in f32. The x a quad meets is scaled by
// SV_LANE = 256^-j (folded into the interpolation coefficients).
const SV_LANE = vec4<f32>(1.0, 0.00390625, 0.0000152587890625, 0.000000059604644775390625);
const SV_Q8_MASK = vec4<i32>(0xff, 0xff00, 0xff0000, bitcast<i32>(0xff000000u));
const SV_Q8_ZERO = vec4<i32>(128, 32768, 8388608, 0);

fn sv_q8_place(w: u32) -> vec4<f32> {
  return vec4<f32>((vec4<i32>(bitcast<i32>(w ^ 0x00808080u)) & SV_Q8_MASK) - SV_Q8_ZERO);
}

// All kept codes of block blk of the row at word v, four per column, in place (KEPT = 16 or 8).
fn sv_quads16(v: u32, blk: u32) -> mat4x4<f32> {
  let i = v + blk * 4u;
  return mat4x4<f32>(
    sv_q8_place(values[i]),
    sv_q8_place(values[i + 1u]),
    sv_q8_place(values[i + 2u]),
    sv_q8_place(values[i + 3u]),
  );
}

fn sv_quads8(v: u32, blk: u32) -> mat2x4<f32> {
  let i = v + blk * 2u;
  return mat2x4<f32>(sv_q8_place(values[i]), sv_q8_place(values[i + 1u]));
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

// Q8_0 weight access for the matmul and embedding kernels, joined to them by their launchers. Planes as in
// src/loaders/repack.ts: codes = int8, 4 per word (element 4i in bits 0..7), 8 words per 32-block (read as two
// vec4<u32>); scales = f16 d per block, 2 per word, row stride ceil(cols/64) words; value = q * d. Declares the
// weight bindings and, after them, the uniform (the last binding; its number depends on how many planes the type
// has). The including kernel declares `struct Params` with a `cols` field.
@group(0) @binding(2) var<storage, read> codes: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read> scales: array<u32>;
@group(0) @binding(4) var<uniform> params: Params;

// The codes of one 32-block of one row, as loaded.
alias WBlock = array<vec4<u32>, 2>;
// What w_scale gives and w_chunk takes: one f32 here (types with mins or two scales per block use a vec2).
alias WScale = f32;

// Block `blk` of `row` (within this chunk); the block must be whole.
fn w_block(row: u32, blk: u32) -> WBlock {
  let i = row * (params.cols / 16u) + blk * 2u;
  return WBlock(codes[i], codes[i + 1u]);
}

// The f16 d of block `blk` of `row`.
fn w_scale(row: u32, blk: u32) -> WScale {
  let pair = unpack2x16float(scales[row * ((params.cols + 63u) / 64u) + blk / 2u]);
  return select(pair.x, pair.y, (blk & 1u) == 1u);
}

// A word's four int8 with the sign bit flipped (q + 128, in 0..255) and masked in place, as f32: byte i is
// (q + 128) * 256^i (exact: at most 8 significant bits, converted from u32). No shifts, which SwiftShader runs lane by
// lane: sign-extending each byte took two.
const Q8_MASK = vec4<u32>(0xffu, 0xff00u, 0xff0000u, 0xff000000u);
const Q8_SIGN = 0x80808080u;
// 256^-i, which undoes byte i's place.
const Q8_PLACE = vec4<f32>(1.0, 0.00390625, 0.0000152587890625, 5.9604644775390625e-8);

fn q8_raw(word: u32) -> vec4<f32> {
  return vec4<f32>(vec4<u32>(word ^ Q8_SIGN) & Q8_MASK);
}

// Elements 8c .. 8c+7 of a block, dequantized with its scale d (c in 0..3): one fma per element gives
// (q + 128) * d - 128 * d = q * d exactly (at most 19 significant bits).
fn w_chunk(w: WBlock, c: u32, d: WScale) -> mat2x4<f32> {
  let v = w[c / 2u];
  let odd = (c & 1u) == 1u;
  let dq = d * Q8_PLACE;
  let off = vec4<f32>(-128.0 * d);
  return mat2x4<f32>(fma(q8_raw(select(v.x, v.z, odd)), dq, off), fma(q8_raw(select(v.y, v.w, odd)), dq, off));
}

// Block types have no partial chunks (cols % 32 == 0): never called, present for the shared kernels.
fn w_load8_tail(row: u32, k8: u32) -> mat2x4<f32> {
  return w_chunk(w_block(row, k8 / 4u), k8 % 4u, w_scale(row, k8 / 4u));
}

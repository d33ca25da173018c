// Q4_0 weight access for the matmul and embedding kernels, joined to them by their launchers. Planes as in
// src/loaders/repack.ts: codes = 4 words per 32-block (read as one vec4<u32>), element 8w+i of the block at bits
// 4i..4i+3 of word w; scales = f16 d per block, 2 per word, row stride ceil(cols/64) words; value = (q - 8) * d.
// Declares the weight bindings and, after them, the uniform (the last binding; its number depends on how many planes
// the type has). The including kernel declares `struct Params` with a `cols` field.
@group(0) @binding(2) var<storage, read> codes: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read> scales: array<u32>;
@group(0) @binding(4) var<uniform> params: Params;

// The codes of one 32-block of one row, as loaded.
alias WBlock = vec4<u32>;
// What w_scale gives and w_chunk takes: one f32 here (types with mins or two scales per block use a vec2).
alias WScale = f32;

// Block `blk` of `row` (within this chunk); the block must be whole.
fn w_block(row: u32, blk: u32) -> WBlock {
  return codes[row * (params.cols / 32u) + blk];
}

// The f16 d of block `blk` of `row`.
fn w_scale(row: u32, blk: u32) -> WScale {
  let pair = unpack2x16float(scales[row * ((params.cols + 63u) / 64u) + blk / 2u]);
  return select(pair.x, pair.y, (blk & 1u) == 1u);
}

// Masking nibble i in place leaves q * 16^i, which converts to f32 exactly; scaling by d * 16^-i and adding -8d in
// one fma gives (q - 8) * d exactly (both have at most 15 significant bits): no shifts per element.
const Q4_PLACE = vec4<f32>(1.0, 0.0625, 0.00390625, 0.000244140625);
const Q4_MASK = vec4<i32>(0xf, 0xf0, 0xf00, 0xf000);

// Elements 8c .. 8c+7 of a block, dequantized with its scale d (c in 0..3).
fn w_chunk(w: WBlock, c: u32, d: WScale) -> mat2x4<f32> {
  let q = bitcast<i32>(w[c]);
  let dq = d * Q4_PLACE;
  let off = vec4<f32>(-8.0 * d);
  return mat2x4<f32>(
    fma(vec4<f32>(vec4<i32>(q) & Q4_MASK), dq, off),
    fma(vec4<f32>(vec4<i32>(q >> 16u) & Q4_MASK), dq, off),
  );
}

// Block types have no partial chunks (cols % 32 == 0): never called, present for the shared kernels.
fn w_load8_tail(row: u32, k8: u32) -> mat2x4<f32> {
  return w_chunk(w_block(row, k8 / 4u), k8 % 4u, w_scale(row, k8 / 4u));
}

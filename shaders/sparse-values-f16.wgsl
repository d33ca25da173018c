// Kept-value access of N:M sparse weights holding f16 values (layout: src/loaders/sparse-nm.ts), joined by
// src/kernels/sparse-weights.ts like sparse-values-f32.wgsl. Values are a row-long stream of f16 pairs (kept 2i in
// the low half), KEPT/2 words per block, a quad of kept values being one vec2<u32>, unpacked with core
// `unpack2x16float` (no shader-f16). Declares the values binding and, after it, the uniform (the last binding).
// Offsets are in words.
@group(0) @binding(3) var<storage, read> values: array<vec2<u32>>;
@group(0) @binding(4) var<uniform> params: Params;

// Words of values per row.
fn sv_row_words() -> u32 {
  return sp_blocks() * (KEPT / 2u);
}

// A block for the dense kernels' interface is its first word: sv_quad loads what it needs where it is used.
alias SVals = u32;

fn sv_block(v: u32, blk: u32) -> SVals {
  return v + blk * (KEPT / 2u);
}

fn sv_unpack(w: vec2<u32>) -> vec4<f32> {
  return vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y));
}

// Kept values 4i .. 4i+3 of a block.
fn sv_quad(b: SVals, i: u32) -> vec4<f32> {
  return sv_unpack(values[(b >> 1u) + i]);
}

// ---- Rowwise GEMV ----

// Values are used as they are: the x they meet is not scaled.
const SV_LANE = vec4<f32>(1.0);

// All kept values of block blk of the row at word v, four per column (KEPT = 16 or 8).
fn sv_quads16(v: u32, blk: u32) -> mat4x4<f32> {
  let i = (v >> 1u) + blk * 4u;
  return mat4x4<f32>(
    sv_unpack(values[i]),
    sv_unpack(values[i + 1u]),
    sv_unpack(values[i + 2u]),
    sv_unpack(values[i + 3u]),
  );
}

fn sv_quads8(v: u32, blk: u32) -> mat2x4<f32> {
  let i = (v >> 1u) + blk * 2u;
  return mat2x4<f32>(sv_unpack(values[i]), sv_unpack(values[i + 1u]));
}

// Plain floats have no scale (s is the row's word in a scales plane they do not have).
fn sv_scale(s: u32, blk: u32) -> f32 {
  return 1.0;
}

fn sv_scale2(s: u32, p: u32) -> vec2<f32> {
  return vec2<f32>(1.0);
}

// Kept-value access of N:M sparse weights holding f32 values (layout: src/loaders/sparse-nm.ts), joined by
// src/kernels/sparse-weights.ts with sparse-access.wgsl and a pattern file (sparse-pattern-*.wgsl: KEPT, the kept
// values per 32-column block, and the positions at binding 2). Values are a row-long stream of f32 bits, KEPT (8 or
// 16) words per block, so every block starts on a vec4. Declares the values binding and, after it, the uniform (the
// last binding); the including kernel declares `struct Params` with a `cols` field. Offsets are in words.
@group(0) @binding(3) var<storage, read> values: array<vec4<u32>>;
@group(0) @binding(4) var<uniform> params: Params;

// Words of values per row.
fn sv_row_words() -> u32 {
  return sp_blocks() * KEPT;
}

// A block for the dense kernels' interface is its first word: sv_quad loads the vec4 it needs where it is used.
alias SVals = u32;

fn sv_block(v: u32, blk: u32) -> SVals {
  return v + blk * KEPT;
}

// Kept values 4i .. 4i+3 of a block.
fn sv_quad(b: SVals, i: u32) -> vec4<f32> {
  return bitcast<vec4<f32>>(values[(b >> 2u) + i]);
}

// ---- Rowwise GEMV ----

// Values are used as they are: the x they meet is not scaled.
const SV_LANE = vec4<f32>(1.0);

// All kept values of block blk of the row at word v, four per column (KEPT = 16 or 8).
fn sv_quads16(v: u32, blk: u32) -> mat4x4<f32> {
  let i = (v >> 2u) + blk * 4u;
  return mat4x4<f32>(
    bitcast<vec4<f32>>(values[i]),
    bitcast<vec4<f32>>(values[i + 1u]),
    bitcast<vec4<f32>>(values[i + 2u]),
    bitcast<vec4<f32>>(values[i + 3u]),
  );
}

fn sv_quads8(v: u32, blk: u32) -> mat2x4<f32> {
  let i = (v >> 2u) + blk * 2u;
  return mat2x4<f32>(bitcast<vec4<f32>>(values[i]), bitcast<vec4<f32>>(values[i + 1u]));
}

// Plain floats have no scale (s is the row's word in a scales plane they do not have).
fn sv_scale(s: u32, blk: u32) -> f32 {
  return 1.0;
}

fn sv_scale2(s: u32, p: u32) -> vec2<f32> {
  return vec2<f32>(1.0);
}

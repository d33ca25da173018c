// Q5_1 weight access for the matmul and embedding kernels, joined after weights-blocks.wgsl by their launchers. Planes
// as in src/loaders/repack.ts: codes = nibble vec4s then fifth-bit words (q5_block); scales = one word per block, f16
// d low and f16 m high, row stride cols/32 words; value = q * d + m. Declares the weight bindings and, after them, the
// uniform (the last binding). The including kernel declares `struct Params` with a `cols` field.
@group(0) @binding(2) var<storage, read> codes: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read> scales: array<u32>;
@group(0) @binding(4) var<uniform> params: Params;

alias WBlock = Q5Block;
// (d, m) of a block.
alias WScale = vec2<f32>;

fn w_block(row: u32, blk: u32) -> WBlock {
  return q5_block(row, blk);
}

fn w_scale(row: u32, blk: u32) -> WScale {
  return unpack2x16float(scales[row * (params.cols / 32u) + blk]);
}

// Elements 8c .. 8c+7 of a block (c in 0..3).
fn w_chunk(w: WBlock, c: u32, s: WScale) -> mat2x4<f32> {
  return q5_chunk(w, c, s.x, s.y);
}

// Block types have no partial chunks (cols % 32 == 0): never called, present for the shared kernels.
fn w_load8_tail(row: u32, k8: u32) -> mat2x4<f32> {
  return w_chunk(w_block(row, k8 / 4u), k8 % 4u, w_scale(row, k8 / 4u));
}

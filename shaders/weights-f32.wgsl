// F32 weight access for the matmul and embedding kernels when cols % 4 == 0 (weights-f32-unaligned.wgsl otherwise),
// joined to them by their launchers. Planes as in src/loaders/repack.ts: the f32 bits, row stride cols words, here
// read as vec4<u32> (the upload pads planes to 16 bytes). Declares the weight binding and, after it, the uniform (the
// last binding; its number depends on how many planes the type has). The including kernel declares `struct Params`
// with a `cols` field. Aligned and unaligned rows are two files, not a branch on cols: SwiftShader runs both sides of
// a branch, and with the word-by-word path beside it the aligned GEMV took several times as long.
@group(0) @binding(2) var<storage, read> codes: array<vec4<u32>>;
@group(0) @binding(3) var<uniform> params: Params;

// A block of f32 is 128 bytes: rather than hold it in registers, the block is its first vec4's index and w_chunk
// loads the two vec4 it needs (the same loads, far fewer live registers in a register tile).
alias WBlock = u32;
// What w_scale gives and w_chunk takes: one f32 here (types with mins or two scales per block use a vec2).
alias WScale = f32;

fn w_word(i: u32) -> u32 {
  return codes[i >> 2u][i & 3u];
}

// Block `blk` of `row` (within this chunk); the block must be whole.
fn w_block(row: u32, blk: u32) -> WBlock {
  return (row * params.cols + blk * 32u) / 4u;
}

// Plain floats have no scale.
fn w_scale(row: u32, blk: u32) -> WScale {
  return 1.0;
}

// Elements 8c .. 8c+7 of a block (c in 0..3); d is always 1.
fn w_chunk(w: WBlock, c: u32, d: WScale) -> mat2x4<f32> {
  return mat2x4<f32>(bitcast<vec4<f32>>(codes[w + 2u * c]), bitcast<vec4<f32>>(codes[w + 2u * c + 1u]));
}

// Elements 8*k8 .. 8*k8+7 of `row` where the row ends inside them: those at or past `cols` read as 0, and no word
// past the row is read.
fn w_load8_tail(row: u32, k8: u32) -> mat2x4<f32> {
  let base = row * params.cols;
  var v: array<f32, 8>;
  for (var j = 0u; j < 8u; j++) {
    let k = k8 * 8u + j;
    v[j] = select(0.0, bitcast<f32>(w_word(base + min(k, params.cols - 1u))), k < params.cols);
  }
  return mat2x4<f32>(vec4<f32>(v[0], v[1], v[2], v[3]), vec4<f32>(v[4], v[5], v[6], v[7]));
}

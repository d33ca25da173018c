// Q6_K weight access for the matmul and embedding kernels, joined after weights-blocks.wgsl by their launchers. The
// kernels walk 32-element blocks, here 1/8 of a 256-element super-block, each with two int8 scales (one per 16
// elements). Planes as in src/loaders/repack.ts: codes = nb nibble vec4s, then two words of 2-bit highs per block
// (two blocks per vec4), row stride 6 * cols/32 words; scales = 4 words of int8 scales per super-block, then the
// super-blocks' f16 d two per word; value = d * scale * (q - 32) (exact in f32: at most 24 significant bits).
// Declares the weight bindings and, after them, the uniform (the last binding). The including kernel declares
// `struct Params` with a `cols` field.
@group(0) @binding(2) var<storage, read> codes: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read> scales: array<u32>;
@group(0) @binding(4) var<uniform> params: Params;

struct Q6Block {
  q: vec4<u32>,
  h: vec2<u32>,
}

alias WBlock = Q6Block;
// d * scale of the block's first and second 16 elements.
alias WScale = vec2<f32>;

fn w_block(row: u32, blk: u32) -> WBlock {
  let nb = params.cols / 32u;
  let base = row * (nb + nb / 2u);
  let h = codes[base + nb + blk / 2u];
  return Q6Block(codes[base + blk], select(h.xy, h.zw, (blk & 1u) == 1u));
}

fn w_scale(row: u32, blk: u32) -> WScale {
  let ns = params.cols / 256u;
  let base = row * (4u * ns + (ns + 1u) / 2u);
  let sb = blk / 8u;
  // Scales 2j and 2j+1 of sub-block j are bytes 2j, 2j+1: one half of word j/2.
  let pair = scales[base + 4u * sb + (blk % 8u) / 2u] >> (16u * (blk & 1u));
  let sc = vec2<f32>(vec2<i32>(bitcast<i32>(pair << 24u), bitcast<i32>(pair << 16u)) >> vec2<u32>(24u));
  let dd = unpack2x16float(scales[base + 4u * ns + sb / 2u]);
  return select(dd.x, dd.y, (sb & 1u) == 1u) * sc;
}

// Elements 8c .. 8c+7 of a block (c in 0..3): chunks 0, 1 take the first scale, 2, 3 the second.
fn w_chunk(w: WBlock, c: u32, s: WScale) -> mat2x4<f32> {
  let q = codes8(w.q[c], w.h[c / 2u] >> (16u * (c & 1u)), 2u);
  let ds = s[c / 2u];
  return mat2x4<f32>((q[0] - vec4<f32>(32.0)) * ds, (q[1] - vec4<f32>(32.0)) * ds);
}

// Block types have no partial chunks (cols % 256 == 0): never called, present for the shared kernels.
fn w_load8_tail(row: u32, k8: u32) -> mat2x4<f32> {
  return w_chunk(w_block(row, k8 / 4u), k8 % 4u, w_scale(row, k8 / 4u));
}

// Helpers shared by the weight access files of the block types added after q4_0 (weights-q4-1, -q5-0, -q5-1, -q4-k,
// -q5-k, -q6-k.wgsl), joined before them by src/kernels/weights.ts. Codes are laid out as src/loaders/repack.ts
// documents: "nibble words" (element 8w+i of a 32-block at bits 4i of word w), then, for 5- and 6-bit codes, words of
// the bits above the nibble. Every value is one fma (or one product) of exact f32 operands: the GPU gives the exact
// value of the format's formula rounded once to f32, as ggml's dequantizers do.

// A nibble masked in place is q * 16^i: exact in f32, and so is scale * 16^-i, so no shift is needed per element.
const NIB_PLACE = vec4<f32>(1.0, 0.0625, 0.00390625, 0.000244140625);
const NIB_MASK = vec4<i32>(0xf, 0xf0, 0xf00, 0xf000);

// The 8 nibbles of a code word as q * scale + offset.
fn nibbles_fma(word: u32, scale: f32, offset: f32) -> mat2x4<f32> {
  let q = bitcast<i32>(word);
  let s = scale * NIB_PLACE;
  let o = vec4<f32>(offset);
  return mat2x4<f32>(fma(vec4<f32>(vec4<i32>(q) & NIB_MASK), s, o), fma(vec4<f32>(vec4<i32>(q >> 16u) & NIB_MASK), s, o));
}

// The 8 codes of a nibble word with `width` high bits each on top: element i's high bits are bits width*i .. of
// `high` (width 1 for Q5, 2 for Q6; a constant at every call, so the shifts fold).
fn codes8(word: u32, high: u32, width: u32) -> mat2x4<f32> {
  let w = vec4<u32>(word);
  let h = vec4<u32>(high);
  let at = vec4<u32>(0u, 1u, 2u, 3u) * width;
  let mask = vec4<u32>((1u << width) - 1u);
  let lo = ((w >> vec4<u32>(0u, 4u, 8u, 12u)) & vec4<u32>(15u)) | (((h >> at) & mask) << vec4<u32>(4u));
  let hi = ((w >> vec4<u32>(16u, 20u, 24u, 28u)) & vec4<u32>(15u)) | (((h >> (at + 4u * width)) & mask) << vec4<u32>(4u));
  return mat2x4<f32>(vec4<f32>(lo), vec4<f32>(hi));
}

// q * scale + offset for 8 codes.
fn codes8_fma(q: mat2x4<f32>, scale: f32, offset: f32) -> mat2x4<f32> {
  return mat2x4<f32>(fma(q[0], vec4<f32>(scale), vec4<f32>(offset)), fma(q[1], vec4<f32>(scale), vec4<f32>(offset)));
}

// Q4_K / Q5_K sub-block j (0..7) of a super-block whose scale plane words are s = (d | dmin << 16, the 12 packed
// scale bytes): (d * scale_j, -dmin * min_j), decoding ggml's get_scale_min_k4. Byte j%4 of s.y holds scale j
// (j < 4) or the top 2 bits of scale j (in its top bits, j >= 4); byte j%4 of s.z the same for min j; byte j%4 of s.w
// holds the low 4 bits of scale j and min j for j >= 4.
fn k_scale_min(s: vec4<u32>, j: u32) -> vec2<f32> {
  let at = 8u * (j & 3u);
  let a = (s.y >> at) & 0xffu;
  let b = (s.z >> at) & 0xffu;
  let c = (s.w >> at) & 0xffu;
  let upper = j >= 4u;
  let sc = select(a & 63u, (c & 15u) | ((a >> 6u) << 4u), upper);
  let m = select(b & 63u, (c >> 4u) | ((b >> 6u) << 4u), upper);
  let dm = unpack2x16float(s.x);
  return vec2<f32>(dm.x * f32(sc), -(dm.y * f32(m)));
}

// The codes of one 32-block with a fifth bit per element (Q5_0, Q5_1, Q5_K): its nibble words and its high word.
struct Q5Block {
  q: vec4<u32>,
  h: u32,
}

// Block `blk` of `row` in the Q5 code layout: nb nibble vec4s, then the blocks' high words, four per vec4.
fn q5_block(row: u32, blk: u32) -> Q5Block {
  let nb = params.cols / 32u;
  let base = row * (nb + (nb + 3u) / 4u);
  return Q5Block(codes[base + blk], codes[base + nb + blk / 4u][blk % 4u]);
}

// Elements 8c .. 8c+7 of a Q5 block as q * scale + offset.
fn q5_chunk(w: Q5Block, c: u32, scale: f32, offset: f32) -> mat2x4<f32> {
  return codes8_fma(codes8(w.q[c], w.h >> (8u * c), 1u), scale, offset);
}

// The q8_0 part of the raw rowwise GEMV (gemv-raw.wgsl): a block's eight code words, element 4w+i at bits 8i of word
// w as a signed byte (weights-q8-0.wgsl), against x pre-scaled by 256^-i (gemv-raw-prepass.wgsl with PLACE_STEP 256,
// ZERO 128). Flipping each byte's sign bit turns q into q + 128 in 0..255, which masks in place like q4_0's nibbles:
// one xor per word, then mask, convert and fma per element, where sign-extending each byte takes two vector shifts
// (lane by lane on SwiftShader) before the convert.
const Q8_MASK = vec4<u32>(0xffu, 0xff00u, 0xff0000u, 0xff000000u);
const Q8_SIGN = 0x80808080u;

// A code word's 4 bytes, sign bit flipped and masked in place, as f32: byte i is (q + 128) * 256^i (exact: at most
// 8 significant bits, converted from u32).
fn q8_raw(word: u32) -> vec4<f32> {
  return vec4<f32>(vec4<u32>(word ^ Q8_SIGN) & Q8_MASK);
}

fn q8_raw2(a: u32, b: u32) -> mat2x4<f32> {
  return mat2x4<f32>(q8_raw(a), q8_raw(b));
}

// sum_j (q_j + 128) x_j over one block of codes against its scaled x.
fn raw_dot(w: WBlock, x: XBlock) -> f32 {
  let lo = w[0];
  let hi = w[1];
  return dot8_acc(dot8_acc(dot8_acc(dot8(q8_raw2(lo.x, lo.y), x.c0), q8_raw2(lo.z, lo.w), x.c1),
    q8_raw2(hi.x, hi.y), x.c2), q8_raw2(hi.z, hi.w), x.c3);
}

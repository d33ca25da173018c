// The q8_0 part of the raw rowwise GEMV (gemv-raw.wgsl): a block's eight code words, element 4w+i at bits 8i of word
// w as a signed byte (weights-q8-0.wgsl), against x pre-scaled by 256^-i (gemv-raw-prepass.wgsl with PLACE_STEP 256,
// ZERO 128): codes read by q8_raw (weights-q8-0.wgsl), sign bits flipped and bytes masked in place, one xor per word
// and then mask, convert and fma per element.
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

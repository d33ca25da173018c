// The q4_0 part of the raw rowwise GEMV (gemv-raw.wgsl): a block's four code words, element 8w+i at bits 4i of word
// w (weights-q4-0.wgsl), against x pre-scaled by 16^-(i%4) (gemv-raw-prepass.wgsl with PLACE_STEP 16, ZERO 8).

// A code word's 8 nibbles masked in place, as f32: nibble i is q * 16^(i%4) (exact: at most 16 significant bits).
fn q4_raw(word: u32) -> mat2x4<f32> {
  let q = bitcast<i32>(word);
  return mat2x4<f32>(vec4<f32>(vec4<i32>(q) & Q4_MASK), vec4<f32>(vec4<i32>(q >> 16u) & Q4_MASK));
}

// sum_j q_j x_j over one block of codes against its scaled x.
fn raw_dot(w: WBlock, x: XBlock) -> f32 {
  return dot8_acc(dot8_acc(dot8_acc(dot8(q4_raw(w.x), x.c0), q4_raw(w.y), x.c1), q4_raw(w.z), x.c2), q4_raw(w.w), x.c3);
}

// Shared part of the q4_0 rowwise GEMV kernels (gemv-rowwise-q4-0.wgsl, gemv-rowwise-q4-0-subgroup.wgsl): dot products
// of code blocks against the output of gemv-q4-0-prepass.wgsl (binding 0): x pre-scaled so that a nibble masked in
// place needs no shift and no per-element scale or zero point, plus each block's -8 * sum(x). Per element that leaves
// mask, convert and fma; per row and block one fma applies d: sum_j (q_j - 8) d x_j = d * (sum_j q_j x_j - 8 sum_j x_j).
// Blocks go in pairs so one scale word (two f16) is loaded and unpacked per row and pair. Joined after gemv.wgsl,
// weights-q4-0.wgsl and gemm-dot.wgsl, before one of the kernels.
override WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> xs: array<vec4<f32>>;

// A code word's 8 nibbles masked in place, as f32: nibble i is q * 16^(i%4) (exact: at most 16 significant bits).
fn q4_raw(word: u32) -> mat2x4<f32> {
  let q = bitcast<i32>(word);
  return mat2x4<f32>(vec4<f32>(vec4<i32>(q) & Q4_MASK), vec4<f32>(vec4<i32>(q >> 16u) & Q4_MASK));
}

// The scaled x of block b, as four 8-element chunks.
struct XBlock {
  c0: mat2x4<f32>,
  c1: mat2x4<f32>,
  c2: mat2x4<f32>,
  c3: mat2x4<f32>,
}

fn x_block(b: u32) -> XBlock {
  let v = b * 8u;
  return XBlock(
    mat2x4<f32>(xs[v], xs[v + 1u]),
    mat2x4<f32>(xs[v + 2u], xs[v + 3u]),
    mat2x4<f32>(xs[v + 4u], xs[v + 5u]),
    mat2x4<f32>(xs[v + 6u], xs[v + 7u]),
  );
}

// sum_j q_j x_j over one block of codes against its scaled x.
fn raw_dot(w: vec4<u32>, x: XBlock) -> f32 {
  return dot8_acc(dot8_acc(dot8_acc(dot8(q4_raw(w.x), x.c0), q4_raw(w.y), x.c1), q4_raw(w.z), x.c2), q4_raw(w.w), x.c3);
}

// Row `row` over blocks 2p and 2p+1, whose zero-point terms are m.
fn pair_dot(row: u32, p: u32, xa: XBlock, xb: XBlock, m: vec2<f32>) -> f32 {
  let d = unpack2x16float(scales[row * ((params.cols + 63u) / 64u) + p]);
  let w = row * (params.cols / 32u) + 2u * p;
  return fma(d.x, raw_dot(codes[w], xa) + m.x, d.y * (raw_dot(codes[w + 1u], xb) + m.y));
}

fn pair_dot4(r: vec4<u32>, p: u32, xa: XBlock, xb: XBlock, m: vec2<f32>) -> vec4<f32> {
  return vec4<f32>(pair_dot(r.x, p, xa, xb, m), pair_dot(r.y, p, xa, xb, m), pair_dot(r.z, p, xa, xb, m),
    pair_dot(r.w, p, xa, xb, m));
}

// Row `row` over block b alone (the last block when the block count is odd).
fn single_dot(row: u32, b: u32, x: XBlock, m: f32) -> f32 {
  return w_scale(row, b) * (raw_dot(w_block(row, b), x) + m);
}

fn single_dot4(r: vec4<u32>, b: u32, x: XBlock, m: f32) -> vec4<f32> {
  return vec4<f32>(single_dot(r.x, b, x, m), single_dot(r.y, b, x, m), single_dot(r.z, b, x, m),
    single_dot(r.w, b, x, m));
}


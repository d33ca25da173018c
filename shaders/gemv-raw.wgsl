// Shared part of the "raw" rowwise GEMV kernels for q4_0 and q8_0 (gemv-rowwise-raw.wgsl,
// gemv-rowwise-raw-subgroup.wgsl): dot products of code blocks against the output of gemv-raw-prepass.wgsl (binding
// 0): x pre-scaled so that a code masked in place (its value times a power of two, no shift) needs no per-element
// scale or zero point, plus each block's -zero * sum(x). Per element that leaves mask, convert and fma; per row and
// block one fma applies d: sum_j (q_j - z) d x_j = d * (sum_j q_j x_j - z sum_j x_j). The type's part
// (gemv-raw-q4-0.wgsl or gemv-raw-q8-0.wgsl) gives raw_dot over one block. Blocks go in pairs so one scale word (two
// f16) is loaded and unpacked per row and pair. Joined after gemv.wgsl, the weight access file, gemm-dot.wgsl and the
// type's part, before one of the kernels.
override WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> xs: array<vec4<f32>>;

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

// Row `row` over blocks 2p and 2p+1, whose zero-point terms are m.
fn pair_dot(row: u32, p: u32, xa: XBlock, xb: XBlock, m: vec2<f32>) -> f32 {
  let d = unpack2x16float(scales[row * ((params.cols + 63u) / 64u) + p]);
  return fma(d.x, raw_dot(w_block(row, 2u * p), xa) + m.x, d.y * (raw_dot(w_block(row, 2u * p + 1u), xb) + m.y));
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

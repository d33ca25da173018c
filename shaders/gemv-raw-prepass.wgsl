// Pre-pass of the raw rowwise GEMV for q4_0 and q8_0 (gemv-rowwise-raw.wgsl), run once per GEMV before its row
// chunks: one invocation per 32-block of x writes (1) the block's x with element 4j+i scaled by PLACE_STEP^-i, so
// that a code masked in place in its word (q * PLACE_STEP^i, no shift) times it is q * x exactly up to rounding, and
// (2) the block's -ZERO * sum(x), the zero point's share, which every row then adds once per block instead of once
// per element. q4_0: PLACE_STEP 16, ZERO 8 (nibble i of a half-word); q8_0: 256 and 128 (byte i of a word, sign bit
// flipped). Layout of `xs` (f32): cols scaled values, then cols/32 block terms.
override WG: u32 = 64u;

struct Params {
  rows: u32,
  cols: u32,
  row_offset: u32,
  grid_x: u32,
}

@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> xs: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

override PLACE_STEP: f32 = 16.0;
override ZERO: f32 = 8.0;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  // Element 4j+i of a vec4 chunk meets its code masked in place at PLACE_STEP^i: the inverse undoes the place (exact).
  let step = 1.0 / PLACE_STEP;
  let place = vec4<f32>(1.0, step, step * step, step * step * step);
  let b = gid.x;
  if (b >= params.cols / 32u) {
    return;
  }
  var sum = vec4<f32>(0.0);
  for (var c = 0u; c < 8u; c++) {
    let v = x[b * 8u + c];
    sum += v;
    let s = v * place;
    let k = (b * 8u + c) * 4u;
    xs[k] = s.x;
    xs[k + 1u] = s.y;
    xs[k + 2u] = s.z;
    xs[k + 3u] = s.w;
  }
  xs[params.cols + b] = -ZERO * (sum.x + sum.y + sum.z + sum.w);
}

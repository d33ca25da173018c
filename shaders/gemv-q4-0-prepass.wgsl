// Pre-pass of the q4_0 rowwise GEMV (gemv-rowwise-q4-0.wgsl), run once per GEMV before its row chunks: one
// invocation per 32-block of x writes (1) the block's x with element 8w+i scaled by 16^-(i%4), so that a code nibble
// masked in place (q * 16^(i%4), no shift) times it is q * x exactly up to rounding, and (2) the block's -8 * sum(x),
// the zero point's share, which every row then adds once per block instead of once per element. Layout of `xs`
// (f32): cols scaled values, then cols/32 block terms.
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

// Element 4j+i of a vec4 chunk meets nibble i (or i+4) of its code word masked in place: 16^-i undoes the place.
const PLACE = vec4<f32>(1.0, 0.0625, 0.00390625, 0.000244140625);

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let b = gid.x;
  if (b >= params.cols / 32u) {
    return;
  }
  var sum = vec4<f32>(0.0);
  for (var c = 0u; c < 8u; c++) {
    let v = x[b * 8u + c];
    sum += v;
    let s = v * PLACE;
    let k = (b * 8u + c) * 4u;
    xs[k] = s.x;
    xs[k + 1u] = s.y;
    xs[k + 2u] = s.z;
    xs[k + 3u] = s.w;
  }
  xs[params.cols + b] = -8.0 * (sum.x + sum.y + sum.z + sum.w);
}

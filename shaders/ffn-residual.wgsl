// The FFN's residual add that measures itself: x += o, and the cosine similarity of the residual stream before (h)
// and after (h + o) goes to state[layer].sim, with age 0 and ran[layer] = 1: the skip plan (ffn-plan.wgsl) reads the
// first two and the engine reads the flag, so what ran is counted by the kernel that ran. One workgroup of WG: a
// strided pass over dim, then a tree over three partial sums in workgroup memory.
override WG: u32 = 256u;

struct Params {
  dim: u32,
  layer: u32,
}

struct LayerState {
  sim: f32,
  age: u32,
  skip: u32,
  pad: u32,
}

@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read> o: array<f32>;
@group(0) @binding(2) var<storage, read_write> state: array<LayerState>;
@group(0) @binding(3) var<storage, read_write> ran: array<u32>;
@group(0) @binding(4) var<uniform> params: Params;

// h.h, h.h' and h'.h' per thread, then per workgroup.
var<workgroup> sums: array<vec3<f32>, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  var acc = vec3<f32>(0.0);
  for (var i = lid; i < params.dim; i += WG) {
    let h = x[i];
    let after = h + o[i];
    x[i] = after;
    acc += vec3<f32>(h * h, h * after, after * after);
  }
  sums[lid] = acc;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      sums[lid] += sums[lid + stride];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let s = sums[0];
    // Both zero: nothing changed (1); one zero: no direction in common (0). Two roots: no overflow of the product.
    var cos = select(0.0, 1.0, s.x == 0.0 && s.z == 0.0);
    if (s.x > 0.0 && s.z > 0.0) {
      // Rounding can put a cosine of an unchanged stream just above 1.
      cos = clamp(s.y / (sqrt(s.x) * sqrt(s.z)), -1.0, 1.0);
    }
    state[params.layer].sim = cos;
    state[params.layer].age = 0u;
    ran[params.layer] = 1u;
  }
}

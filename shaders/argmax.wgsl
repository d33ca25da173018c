// Argmax of each row of logits (rows, n): out[row] = the lowest index among the largest values. One
// workgroup of WG per row: a strided scan, then a tree over (key, index) pairs in workgroup memory.
// Values compare as order keys (u32, same order as the floats, -0 == +0), so a positive NaN would count as
// the largest and a negative one as the smallest; loops are bounded either way.
override WG: u32 = 256u;

struct Params {
  rows: u32,
  n: u32,
}

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<uniform> params: Params;

var<workgroup> best_key: array<u32, WG>;
var<workgroup> best_index: array<u32, WG>;

// Monotone map from f32 to u32: flip all bits of negatives, set the sign bit of positives. Never 0 for a number.
fn order_key(v: f32) -> u32 {
  var b = bitcast<u32>(v);
  if ((b & 0x7fffffffu) == 0u) {
    b = 0u;
  }
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wg.x;
  if (row >= params.rows) {
    return;
  }
  let base = row * params.n;
  // Key 0 with no index loses to every number, so a thread with no elements never wins.
  var key = 0u;
  var index = 0xffffffffu;
  for (var i = lid; i < params.n; i += WG) {
    let k = order_key(logits[base + i]);
    if (k > key) {
      key = k;
      index = i;
    }
  }
  best_key[lid] = key;
  best_index[lid] = index;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      let k = best_key[lid + stride];
      let j = best_index[lid + stride];
      if (k > best_key[lid] || (k == best_key[lid] && j < best_index[lid])) {
        best_key[lid] = k;
        best_index[lid] = j;
      }
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    out[row] = select(best_index[0], 0u, best_index[0] == 0xffffffffu);
  }
}

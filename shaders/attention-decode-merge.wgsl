// Flash-decoding merge: one invocation per (query head, output dim) combines the per-split partials of its head,
// m = max m_i, l = sum l_i e^(m_i - m), out = sum O_i e^(m_i - m) / l. Empty splits carry m_i = NEG_BIG, l_i = 0
// and weigh exactly 0; split 0 always holds position 0, so l > 0.
const NEG_BIG: f32 = -1.0e30;
override WG: u32 = 64u;

struct Params {
  n_heads: u32,
  head_size: u32,
  n_splits: u32,
}

// Per (split, head): head_size output words, then m, then l (written by the split kernel).
@group(0) @binding(0) var<storage, read> part: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = (wg.x + wg.y * nwg.x) * WG + lid;
  let hs = params.head_size;
  let n_heads = params.n_heads;
  if (i >= n_heads * hs) {
    return;
  }
  let h = i / hs;
  let d = i - h * hs;
  let stride = hs + 2u;
  var m = NEG_BIG;
  for (var s = 0u; s < params.n_splits; s++) {
    m = max(m, part[(s * n_heads + h) * stride + hs]);
  }
  var l = 0.0;
  var o = 0.0;
  for (var s = 0u; s < params.n_splits; s++) {
    let base = (s * n_heads + h) * stride;
    let w = exp(part[base + hs] - m);
    l += part[base + hs + 1u] * w;
    o += part[base + d] * w;
  }
  out[i] = o / l;
}

// Flash-decoding split, cooperative: one workgroup per (query head, split). Per tile of WG keys, threads over keys
// score q·k, the workgroup reduces the tile's max and sum in shared memory, then threads over dims fold the
// tile's values into the unnormalised output. Writes m, l and O for the merge kernel.
const MAX_HEAD_SIZE: u32 = 256u;
// Output dims per thread: head_size <= MAX_OUTS * WG (the launcher checks).
const MAX_OUTS: u32 = 4u;
// Stands in for -inf: WGSL may assume no infinities, and exp(NEG_BIG - m) is exactly 0.
const NEG_BIG: f32 = -1.0e30;
// A power of two (the tree reduction halves it).
override WG: u32 = 64u;

struct Params {
  pos: u32,
  n_heads: u32,
  n_kv_heads: u32,
  head_size: u32,
  capacity: u32,
  n_splits: u32,
  chunk_align: u32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> cache_k: array<f32>;
@group(0) @binding(2) var<storage, read> cache_v: array<f32>;
// Per (split, head): head_size output words, then m, then l.
@group(0) @binding(3) var<storage, read_write> part: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

var<workgroup> q_s: array<f32, MAX_HEAD_SIZE>;
var<workgroup> p_s: array<f32, WG>;
var<workgroup> red: array<f32, WG>;

fn wg_max(x: f32, lid: u32) -> f32 {
  red[lid] = x;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      red[lid] = max(red[lid], red[lid + stride]);
    }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

fn wg_sum(x: f32, lid: u32) -> f32 {
  red[lid] = x;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      red[lid] += red[lid + stride];
    }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let n_heads = params.n_heads;
  let hs = params.head_size;
  let h = wg.x;
  let split = wg.y;
  let kvh = h / (n_heads / params.n_kv_heads);
  let n = params.pos + 1u;
  let align = params.chunk_align;
  let chunk = (n + params.n_splits - 1u) / params.n_splits;
  let chunk_aligned = (chunk + align - 1u) / align * align;
  let start = min(split * chunk_aligned, n);
  let end = min(start + chunk_aligned, n);

  for (var d = lid; d < hs; d += WG) {
    q_s[d] = q[h * hs + d] * params.scale;
  }
  workgroupBarrier();

  let head_base = kvh * params.capacity * hs;
  var o: array<f32, MAX_OUTS>;
  var m = NEG_BIG;
  var l = 0.0;
  for (var k0 = start; k0 < end; k0 += WG) {
    let key = k0 + lid;
    var s = NEG_BIG;
    if (key < end) {
      let row = head_base + key * hs;
      var dot = 0.0;
      for (var d = 0u; d < hs; d++) {
        dot += q_s[d] * cache_k[row + d];
      }
      s = dot;
    }
    let m_new = max(m, wg_max(s, lid));
    var p = 0.0;
    if (key < end) {
      p = exp(s - m_new);
    }
    p_s[lid] = p;
    // wg_sum's barriers also publish p_s.
    let corr = exp(m - m_new);
    l = l * corr + wg_sum(p, lid);
    let nk = min(WG, end - k0);
    let row0 = head_base + k0 * hs;
    for (var r = 0u; r < MAX_OUTS; r++) {
      let d = lid + r * WG;
      if (d < hs) {
        var a = o[r] * corr;
        for (var j = 0u; j < nk; j++) {
          a += p_s[j] * cache_v[row0 + j * hs + d];
        }
        o[r] = a;
      }
    }
    m = m_new;
    workgroupBarrier();
  }
  let out = (split * n_heads + h) * (hs + 2u);
  for (var r = 0u; r < MAX_OUTS; r++) {
    let d = lid + r * WG;
    if (d < hs) {
      part[out + d] = o[r];
    }
  }
  if (lid == 0u) {
    part[out + hs] = m;
    part[out + hs + 1u] = l;
  }
}

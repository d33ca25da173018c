// Causal attention for prefill, rowwise (barrier-free, no shared memory). Kv head k's query rows are its GQA
// group's (token, head) pairs in order (row = t * group + g, head = k * group + g); one invocation takes a quad of
// them, carried in the components of vec4s, so each key and value word it loads feeds four rows. On CPU adapters
// every dynamically indexed load is a gather, so that reuse (and the hand-unrolled block of 16 keys, whose scores
// stay in registers: Tint does not unroll loops and an indexed private array is a gather too) sets the speed.
// Online softmax over the blocks; token t sees cache positions 0..start_pos+t.
const MAX_HEAD_SIZE: u32 = 256u;
// Stands in for -inf: WGSL may assume no infinities, and exp(NEG_BIG - m) is exactly 0.
const NEG_BIG: f32 = -1.0e30;
override WG: u32 = 64u;

struct Params {
  n_tokens: u32,
  start_pos: u32,
  n_heads: u32,
  n_kv_heads: u32,
  head_size: u32,
  capacity: u32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> cache_k: array<f32>;
@group(0) @binding(2) var<storage, read> cache_v: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = (wg.x + wg.y * nwg.x) * WG + lid;
  let n_heads = params.n_heads;
  let group = n_heads / params.n_kv_heads;
  let rows = params.n_tokens * group;
  let quads = (rows + 3u) / 4u;
  if (i >= quads * params.n_kv_heads) {
    return;
  }
  let hs = params.head_size;
  let kvh = i / quads;
  let r0 = (i - kvh * quads) * 4u;
  // Rows past the end repeat the last row and write nothing.
  let row = min(vec4<u32>(r0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(rows - 1u));
  let t = row / vec4<u32>(group);
  let h = vec4<u32>(kvh * group) + row % vec4<u32>(group);
  // One past each row's last visible position.
  let ends = vec4<u32>(params.start_pos + 1u) + t;
  let q_off = (t * vec4<u32>(n_heads) + h) * vec4<u32>(hs);
  let kv_end = max(max(ends.x, ends.y), max(ends.z, ends.w));

  var qv: array<vec4<f32>, MAX_HEAD_SIZE>;
  var acc: array<vec4<f32>, MAX_HEAD_SIZE>;
  for (var d = 0u; d < hs; d++) {
    qv[d] = vec4<f32>(q[q_off.x + d], q[q_off.y + d], q[q_off.z + d], q[q_off.w + d]) * params.scale;
    acc[d] = vec4<f32>(0.0);
  }
  let head_base = kvh * params.capacity * hs;
  let last = kv_end - 1u;
  var m = vec4<f32>(NEG_BIG);
  var l = vec4<f32>(0.0);
  for (var p0 = 0u; p0 < kv_end; p0 += 16u) {
    // Keys past the live range read the last live row (finite) and are masked out below.
    let k0 = head_base + min(p0 + 0u, last) * hs;
    let k1 = head_base + min(p0 + 1u, last) * hs;
    let k2 = head_base + min(p0 + 2u, last) * hs;
    let k3 = head_base + min(p0 + 3u, last) * hs;
    let k4 = head_base + min(p0 + 4u, last) * hs;
    let k5 = head_base + min(p0 + 5u, last) * hs;
    let k6 = head_base + min(p0 + 6u, last) * hs;
    let k7 = head_base + min(p0 + 7u, last) * hs;
    let k8 = head_base + min(p0 + 8u, last) * hs;
    let k9 = head_base + min(p0 + 9u, last) * hs;
    let k10 = head_base + min(p0 + 10u, last) * hs;
    let k11 = head_base + min(p0 + 11u, last) * hs;
    let k12 = head_base + min(p0 + 12u, last) * hs;
    let k13 = head_base + min(p0 + 13u, last) * hs;
    let k14 = head_base + min(p0 + 14u, last) * hs;
    let k15 = head_base + min(p0 + 15u, last) * hs;
    var s0 = vec4<f32>(0.0);
    var s1 = vec4<f32>(0.0);
    var s2 = vec4<f32>(0.0);
    var s3 = vec4<f32>(0.0);
    var s4 = vec4<f32>(0.0);
    var s5 = vec4<f32>(0.0);
    var s6 = vec4<f32>(0.0);
    var s7 = vec4<f32>(0.0);
    var s8 = vec4<f32>(0.0);
    var s9 = vec4<f32>(0.0);
    var s10 = vec4<f32>(0.0);
    var s11 = vec4<f32>(0.0);
    var s12 = vec4<f32>(0.0);
    var s13 = vec4<f32>(0.0);
    var s14 = vec4<f32>(0.0);
    var s15 = vec4<f32>(0.0);
    for (var d = 0u; d < hs; d++) {
      let qd = qv[d];
      s0 += qd * cache_k[k0 + d];
      s1 += qd * cache_k[k1 + d];
      s2 += qd * cache_k[k2 + d];
      s3 += qd * cache_k[k3 + d];
      s4 += qd * cache_k[k4 + d];
      s5 += qd * cache_k[k5 + d];
      s6 += qd * cache_k[k6 + d];
      s7 += qd * cache_k[k7 + d];
      s8 += qd * cache_k[k8 + d];
      s9 += qd * cache_k[k9 + d];
      s10 += qd * cache_k[k10 + d];
      s11 += qd * cache_k[k11 + d];
      s12 += qd * cache_k[k12 + d];
      s13 += qd * cache_k[k13 + d];
      s14 += qd * cache_k[k14 + d];
      s15 += qd * cache_k[k15 + d];
    }
    let neg = vec4<f32>(NEG_BIG);
    s0 = select(neg, s0, vec4<u32>(p0 + 0u) < ends);
    s1 = select(neg, s1, vec4<u32>(p0 + 1u) < ends);
    s2 = select(neg, s2, vec4<u32>(p0 + 2u) < ends);
    s3 = select(neg, s3, vec4<u32>(p0 + 3u) < ends);
    s4 = select(neg, s4, vec4<u32>(p0 + 4u) < ends);
    s5 = select(neg, s5, vec4<u32>(p0 + 5u) < ends);
    s6 = select(neg, s6, vec4<u32>(p0 + 6u) < ends);
    s7 = select(neg, s7, vec4<u32>(p0 + 7u) < ends);
    s8 = select(neg, s8, vec4<u32>(p0 + 8u) < ends);
    s9 = select(neg, s9, vec4<u32>(p0 + 9u) < ends);
    s10 = select(neg, s10, vec4<u32>(p0 + 10u) < ends);
    s11 = select(neg, s11, vec4<u32>(p0 + 11u) < ends);
    s12 = select(neg, s12, vec4<u32>(p0 + 12u) < ends);
    s13 = select(neg, s13, vec4<u32>(p0 + 13u) < ends);
    s14 = select(neg, s14, vec4<u32>(p0 + 14u) < ends);
    s15 = select(neg, s15, vec4<u32>(p0 + 15u) < ends);
    let m_lo = max(max(max(s0, s1), max(s2, s3)), max(max(s4, s5), max(s6, s7)));
    let m_hi = max(max(max(s8, s9), max(s10, s11)), max(max(s12, s13), max(s14, s15)));
    let m_new = max(m, max(m_lo, m_hi));
    let corr = exp(m - m_new);
    // Masked keys weigh exp(NEG_BIG - m_new) == 0: each row has a live key in this block or an earlier one.
    let e0 = exp(s0 - m_new);
    let e1 = exp(s1 - m_new);
    let e2 = exp(s2 - m_new);
    let e3 = exp(s3 - m_new);
    let e4 = exp(s4 - m_new);
    let e5 = exp(s5 - m_new);
    let e6 = exp(s6 - m_new);
    let e7 = exp(s7 - m_new);
    let e8 = exp(s8 - m_new);
    let e9 = exp(s9 - m_new);
    let e10 = exp(s10 - m_new);
    let e11 = exp(s11 - m_new);
    let e12 = exp(s12 - m_new);
    let e13 = exp(s13 - m_new);
    let e14 = exp(s14 - m_new);
    let e15 = exp(s15 - m_new);
    let l_lo = e0 + e1 + e2 + e3 + e4 + e5 + e6 + e7;
    let l_hi = e8 + e9 + e10 + e11 + e12 + e13 + e14 + e15;
    l = l * corr + (l_lo + l_hi);
    for (var d = 0u; d < hs; d++) {
      var a = acc[d] * corr;
      a += e0 * cache_v[k0 + d];
      a += e1 * cache_v[k1 + d];
      a += e2 * cache_v[k2 + d];
      a += e3 * cache_v[k3 + d];
      a += e4 * cache_v[k4 + d];
      a += e5 * cache_v[k5 + d];
      a += e6 * cache_v[k6 + d];
      a += e7 * cache_v[k7 + d];
      a += e8 * cache_v[k8 + d];
      a += e9 * cache_v[k9 + d];
      a += e10 * cache_v[k10 + d];
      a += e11 * cache_v[k11 + d];
      a += e12 * cache_v[k12 + d];
      a += e13 * cache_v[k13 + d];
      a += e14 * cache_v[k14 + d];
      a += e15 * cache_v[k15 + d];
      acc[d] = a;
    }
    m = m_new;
  }
  let inv_l = 1.0 / l;
  let n_valid = min(rows - r0, 4u);
  for (var d = 0u; d < hs; d++) {
    let o = acc[d] * inv_l;
    out[q_off.x + d] = o.x;
    if (n_valid > 1u) {
      out[q_off.y + d] = o.y;
    }
    if (n_valid > 2u) {
      out[q_off.z + d] = o.z;
    }
    if (n_valid > 3u) {
      out[q_off.w + d] = o.w;
    }
  }
}

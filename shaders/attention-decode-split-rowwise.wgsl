// Flash-decoding split, rowwise (barrier-free, no shared memory): one invocation per (split, kv head, quad of the
// kv head's GQA query heads) computes over its chunk of cache positions, for each of the quad's heads, the running
// max m, the sum l of exp(s - m) and the unnormalised output sum exp(s - m) * v, where s = scale * q·k. The quad's
// heads ride in the components of vec4s, so each key and value word loaded feeds four heads: on CPU adapters every
// dynamically indexed load is a gather, so that reuse (and the hand-unrolled block of 16 keys, whose scores stay in
// registers: Tint does not unroll loops and an indexed private array is a gather too) sets the speed.
// The chunk is derived from pos in the shader, so one prepared dispatch stays valid at every position.
const MAX_HEAD_SIZE: u32 = 256u;
// Stands in for -inf: WGSL may assume no infinities, and exp(NEG_BIG - m) is exactly 0.
const NEG_BIG: f32 = -1.0e30;
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

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = (wg.x + wg.y * nwg.x) * WG + lid;
  let n_heads = params.n_heads;
  let n_kv_heads = params.n_kv_heads;
  let group = n_heads / n_kv_heads;
  let quads = (group + 3u) / 4u;
  if (i >= params.n_splits * n_kv_heads * quads) {
    return;
  }
  let hs = params.head_size;
  // Splits vary slowest, so neighbouring invocations cover the same positions.
  let split = i / (n_kv_heads * quads);
  let rest = i - split * n_kv_heads * quads;
  let kvh = rest / quads;
  let g0 = (rest - kvh * quads) * 4u;
  // Heads past the group repeat its last head and write nothing.
  let h = vec4<u32>(kvh * group) + min(vec4<u32>(g0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(group - 1u));

  let n = params.pos + 1u;
  let align = params.chunk_align;
  let chunk = (n + params.n_splits - 1u) / params.n_splits;
  let chunk_aligned = (chunk + align - 1u) / align * align;
  let start = min(split * chunk_aligned, n);
  let end = min(start + chunk_aligned, n);

  var qv: array<vec4<f32>, MAX_HEAD_SIZE>;
  var acc: array<vec4<f32>, MAX_HEAD_SIZE>;
  let q_off = h * vec4<u32>(hs);
  for (var d = 0u; d < hs; d++) {
    qv[d] = vec4<f32>(q[q_off.x + d], q[q_off.y + d], q[q_off.z + d], q[q_off.w + d]) * params.scale;
    acc[d] = vec4<f32>(0.0);
  }
  let head_base = kvh * params.capacity * hs;
  // An empty split (start == end) skips the loop and reports m = NEG_BIG, l = 0.
  let last = max(end, 1u) - 1u;
  var m = vec4<f32>(NEG_BIG);
  var l = vec4<f32>(0.0);
  for (var p0 = start; p0 < end; p0 += 16u) {
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
    s0 = select(neg, s0, p0 + 0u < end);
    s1 = select(neg, s1, p0 + 1u < end);
    s2 = select(neg, s2, p0 + 2u < end);
    s3 = select(neg, s3, p0 + 3u < end);
    s4 = select(neg, s4, p0 + 4u < end);
    s5 = select(neg, s5, p0 + 5u < end);
    s6 = select(neg, s6, p0 + 6u < end);
    s7 = select(neg, s7, p0 + 7u < end);
    s8 = select(neg, s8, p0 + 8u < end);
    s9 = select(neg, s9, p0 + 9u < end);
    s10 = select(neg, s10, p0 + 10u < end);
    s11 = select(neg, s11, p0 + 11u < end);
    s12 = select(neg, s12, p0 + 12u < end);
    s13 = select(neg, s13, p0 + 13u < end);
    s14 = select(neg, s14, p0 + 14u < end);
    s15 = select(neg, s15, p0 + 15u < end);
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
  let stride = hs + 2u;
  let o_off = (vec4<u32>(split * n_heads) + h) * vec4<u32>(stride);
  let n_valid = min(group - g0, 4u);
  for (var d = 0u; d < hs; d++) {
    let a = acc[d];
    part[o_off.x + d] = a.x;
    if (n_valid > 1u) {
      part[o_off.y + d] = a.y;
    }
    if (n_valid > 2u) {
      part[o_off.z + d] = a.z;
    }
    if (n_valid > 3u) {
      part[o_off.w + d] = a.w;
    }
  }
  part[o_off.x + hs] = m.x;
  part[o_off.x + hs + 1u] = l.x;
  if (n_valid > 1u) {
    part[o_off.y + hs] = m.y;
    part[o_off.y + hs + 1u] = l.y;
  }
  if (n_valid > 2u) {
    part[o_off.z + hs] = m.z;
    part[o_off.z + hs + 1u] = l.z;
  }
  if (n_valid > 3u) {
    part[o_off.w + hs] = m.w;
    part[o_off.w + hs + 1u] = l.w;
  }
}

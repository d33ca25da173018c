// Sampling on the GPU: out[row] = a token drawn from softmax(logits[row] / temperature) restricted to the
// top-k and then the top-p set, with the uniform from Philox2x32-10 at counter (step, row) under key seed.
// One workgroup of WG per row; temperature 0, top_k 1 or n 1 is the argmax.
//
// Values are compared as order keys (u32 in the floats' order), and both thresholds are found by radix
// select, a byte of the key per pass from the top, over 256-bin histograms in workgroup memory:
// - top-k: histograms of counts give the k-th largest key exactly (ties with it stay in);
// - top-p: histograms of mass give the smallest key whose tokens at or above it hold top_p of the top-k
//   mass. Masses are added as 64-bit fixed point (w * 2^31, two u32 atomics with a carry), so the bins are
//   exact whatever the order of the adds; only comparisons with the target round (to f32).
// When the top-k set has at most CAP tokens it is first copied, in index order, into workgroup memory and
// the rest runs there. The draw walks the kept tokens in index order: per-thread sums over contiguous
// chunks, one thread picks the chunk, the chunk's owner picks the token, so exactly one invocation writes.
override WG: u32 = 256u;
const CAP: u32 = 512u;
const NONE: u32 = 0xffffffffu;
const FIXED: f32 = 2147483648.0; // 2^31: a weight in [0, 1] as a u32 fraction

struct Params {
  rows: u32,
  n: u32,
  temperature: f32,
  top_k: u32,
  top_p: f32,
  seed: u32,
  step: u32,
}

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<uniform> params: Params;

// Where the tokens live: the candidate copy (compact = 1, len = its size) or the row of logits.
struct View {
  compact: u32,
  base: u32,
  len: u32,
  lmax: f32,
  temperature: f32,
}

struct Item {
  key: u32,
  w: f32,
  index: u32,
}

// One radix-select pass's choice: the digit, and the count or mass of matching tokens above and in its bin.
struct Choice {
  digit: u32,
  above: f32,
  within: f32,
}

var<workgroup> red_u: array<u32, WG>;
var<workgroup> red_v: array<u32, WG>;
var<workgroup> red_w: array<u32, WG>;
var<workgroup> red_f: array<f32, WG>;
var<workgroup> hist_lo: array<atomic<u32>, 256>;
var<workgroup> hist_hi: array<atomic<u32>, 256>;
var<workgroup> chosen: Choice;
var<workgroup> cand_key: array<u32, CAP>;
var<workgroup> cand_w: array<f32, CAP>;
var<workgroup> cand_index: array<u32, CAP>;
var<workgroup> pick_thread: u32;
var<workgroup> pick_rest: f32;

// Monotone map from f32 to u32: flip all bits of negatives, set the sign bit of positives; -0 == +0.
fn order_key(v: f32) -> u32 {
  var b = bitcast<u32>(v);
  if ((b & 0x7fffffffu) == 0u) {
    b = 0u;
  }
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

// Item j of the view, with its unnormalised probability exp((x - max) / temperature) in [0, 1].
fn item(v: View, j: u32) -> Item {
  if (v.compact != 0u) {
    return Item(cand_key[j], cand_w[j], cand_index[j]);
  }
  let x = logits[v.base + j];
  return Item(order_key(x), exp((x - v.lmax) / v.temperature), j);
}

// The high 32 bits of a * b, from 16-bit halves (WGSL has no 64-bit integers).
fn mul_hi(a: u32, b: u32) -> u32 {
  let a0 = a & 0xffffu;
  let a1 = a >> 16u;
  let b0 = b & 0xffffu;
  let b1 = b >> 16u;
  let p01 = a0 * b1;
  let p10 = a1 * b0;
  let mid = ((a0 * b0) >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
  return a1 * b1 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u);
}

// Philox2x32-10 at counter (c0, c1) under key, as src/decode/philox.ts: 24 bits as a uniform in [0, 1).
fn philox_uniform(key: u32, c0: u32, c1: u32) -> f32 {
  var x0 = c0;
  var x1 = c1;
  var k = key;
  for (var round = 0u; round < 10u; round++) {
    let hi = mul_hi(0xd256d193u, x0);
    let lo = 0xd256d193u * x0;
    x0 = hi ^ k ^ x1;
    x1 = lo;
    k += 0x9e3779b9u;
  }
  return f32(x0 >> 8u) * (1.0 / 16777216.0);
}

// (largest key, lowest index holding it, smallest key) over the workgroup, returned uniform.
fn extremes(lid: u32, key: u32, index: u32, low: u32) -> vec3<u32> {
  red_u[lid] = key;
  red_v[lid] = index;
  red_w[lid] = low;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      let k = red_u[lid + stride];
      let j = red_v[lid + stride];
      if (k > red_u[lid] || (k == red_u[lid] && j < red_v[lid])) {
        red_u[lid] = k;
        red_v[lid] = j;
      }
      red_w[lid] = min(red_w[lid], red_w[lid + stride]);
    }
    workgroupBarrier();
  }
  return vec3<u32>(workgroupUniformLoad(&red_u[0]), workgroupUniformLoad(&red_v[0]), workgroupUniformLoad(&red_w[0]));
}

// Radix select over the view's tokens with key >= floor_key: the largest key t such that the tokens with key
// >= t hold at least `goal`, counting tokens (by_mass false) or their mass in units of 2^-31 (by_mass true).
// Returns (t, bits of the f32 count or mass of the tokens with key >= t). A goal of 0 means "all of it":
// the first pass then sets it to top_p times the total it histogrammed.
fn radix_select(lid: u32, v: View, floor_key: u32, by_mass: bool, goal_in: f32) -> vec2<u32> {
  var goal = goal_in;
  var prefix = 0u;
  var mask = 0u;
  var above = 0.0;
  var within = 0.0;
  for (var digit_pass = 0u; digit_pass < 4u; digit_pass++) {
    let shift = 24u - 8u * digit_pass;
    for (var b = lid; b < 256u; b += WG) {
      atomicStore(&hist_lo[b], 0u);
      atomicStore(&hist_hi[b], 0u);
    }
    workgroupBarrier();
    for (var j = lid; j < v.len; j += WG) {
      let it = item(v, j);
      if (it.key >= floor_key && (it.key & mask) == prefix) {
        let bin = (it.key >> shift) & 0xffu;
        let q = select(1u, u32(it.w * FIXED), by_mass);
        let old = atomicAdd(&hist_lo[bin], q);
        if (old + q < old) {
          atomicAdd(&hist_hi[bin], 1u);
        }
      }
    }
    workgroupBarrier();
    if (lid == 0u) {
      if (goal == 0.0) {
        var total = 0.0;
        for (var b = 0u; b < 256u; b++) {
          total += f32(atomicLoad(&hist_hi[b])) * 4294967296.0 + f32(atomicLoad(&hist_lo[b]));
        }
        goal = params.top_p * total;
      }
      var sum = above;
      var b = 255u;
      loop {
        let h = f32(atomicLoad(&hist_hi[b])) * 4294967296.0 + f32(atomicLoad(&hist_lo[b]));
        if (sum + h >= goal || b == 0u) {
          chosen = Choice(b, sum, h);
          break;
        }
        sum += h;
        b -= 1u;
      }
      red_f[0] = goal;
    }
    let c = workgroupUniformLoad(&chosen);
    goal = workgroupUniformLoad(&red_f[0]);
    prefix |= c.digit << shift;
    mask |= 0xffu << shift;
    above = c.above;
    within = c.within;
  }
  return vec2<u32>(prefix, bitcast<u32>(above + within));
}

// Copies the row's logits with key >= t (at most CAP of them) into the candidate arrays, in index order:
// each thread copies its contiguous chunk at an offset from a serial prefix sum of the chunk counts.
fn compact_at_least(lid: u32, base: u32, t: u32, lmax: f32, temperature: f32) {
  let chunk = (params.n + WG - 1u) / WG;
  let start = min(params.n, lid * chunk);
  let end = min(params.n, start + chunk);
  var c = 0u;
  for (var i = start; i < end; i++) {
    c += select(0u, 1u, order_key(logits[base + i]) >= t);
  }
  workgroupBarrier(); // red_u[0] may still be being read by extremes' workgroupUniformLoad
  red_u[lid] = c;
  workgroupBarrier();
  if (lid == 0u) {
    var offset = 0u;
    for (var j = 0u; j < WG; j++) {
      let cj = red_u[j];
      red_u[j] = offset;
      offset += cj;
    }
  }
  workgroupBarrier();
  var o = red_u[lid];
  for (var i = start; i < end && o < CAP; i++) {
    let x = logits[base + i];
    let key = order_key(x);
    if (key >= t) {
      cand_key[o] = key;
      cand_w[o] = exp((x - lmax) / temperature);
      cand_index[o] = i;
      o++;
    }
  }
  workgroupBarrier();
}

// The draw: the first token with key >= t, in index order, whose cumulative mass exceeds u * total.
fn pick(lid: u32, v: View, t: u32, row: u32, fallback: u32) {
  workgroupBarrier(); // red_f[0] may still be being read by radix_select's last workgroupUniformLoad
  let chunk = (v.len + WG - 1u) / WG;
  let start = min(v.len, lid * chunk);
  let end = min(v.len, start + chunk);
  var s = 0.0;
  for (var j = start; j < end; j++) {
    let it = item(v, j);
    if (it.key >= t) {
      s += it.w;
    }
  }
  red_f[lid] = s;
  workgroupBarrier();
  if (lid == 0u) {
    var total = 0.0;
    for (var i = 0u; i < WG; i++) {
      total += red_f[i];
    }
    let goal = philox_uniform(params.seed, params.step, row) * total;
    // Rounding at the very top falls back to the last chunk with mass, taken whole; no chunk with mass at
    // all (only with NaN or +Inf logits) falls back to the argmax.
    pick_thread = NONE;
    var below = 0.0;
    for (var i = 0u; i < WG; i++) {
      let si = red_f[i];
      if (si > 0.0) {
        pick_thread = i;
        pick_rest = si;
        if (below + si > goal) {
          pick_rest = goal - below;
          break;
        }
        below += si;
      }
    }
    if (pick_thread == NONE) {
      out[row] = fallback;
    }
  }
  workgroupBarrier();
  if (lid == pick_thread) {
    var cumulative = 0.0;
    var token = fallback;
    for (var j = start; j < end; j++) {
      let it = item(v, j);
      if (it.key >= t && it.w > 0.0) {
        cumulative += it.w;
        token = it.index;
        if (cumulative > pick_rest) {
          break;
        }
      }
    }
    out[row] = token;
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wg.x;
  if (row >= params.rows) {
    return;
  }
  let n = params.n;
  let base = row * n;

  var key = 0u;
  var index = NONE;
  var low = NONE;
  for (var i = lid; i < n; i += WG) {
    let k = order_key(logits[base + i]);
    if (k > key) {
      key = k;
      index = i;
    }
    low = min(low, k);
  }
  let ext = extremes(lid, key, index, low);
  let best = ext.y;
  let temperature = params.temperature;
  if (temperature <= 0.0 || params.top_k == 1u || n == 1u || best == NONE) {
    if (lid == 0u) {
      out[row] = select(best, 0u, best == NONE);
    }
    return;
  }
  let lmax = logits[base + best];
  var view = View(0u, base, n, lmax, temperature);

  var tk = ext.z;
  if (params.top_k > 0u && params.top_k < n) {
    let r = radix_select(lid, view, 0u, false, f32(params.top_k));
    tk = r.x;
    let kept = u32(bitcast<f32>(r.y));
    if (kept <= CAP) {
      compact_at_least(lid, base, tk, lmax, temperature);
      view = View(1u, base, kept, lmax, temperature);
    }
  } else if (n <= CAP) {
    compact_at_least(lid, base, tk, lmax, temperature);
    view = View(1u, base, n, lmax, temperature);
  }

  var tp = tk;
  if (params.top_p < 1.0) {
    tp = radix_select(lid, view, tk, true, 0.0).x;
  }
  pick(lid, view, tp, row, best);
}

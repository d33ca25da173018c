// Causal attention for prefill, cooperative (flash-attention tiles): one workgroup per (tile of BQ query rows,
// kv head), where the rows are the (token, head) pairs of that kv head's GQA group, so each K/V tile staged in
// workgroup memory serves the whole group. TPR threads per row each own the dims lane + j*TPR of q and of the
// output. Per tile of BK keys: partial dots go to shared memory, every thread of a row sums its row's scores and
// runs the online softmax, then folds the tile's values into its dims. Tiles past the tile's last query
// position are never loaded: they are masked for every row.
const MAX_DPT: u32 = 16u;
const MAX_BK: u32 = 32u;
// Stands in for -inf: WGSL may assume no infinities, and exp(NEG_BIG - m) is exactly 0.
const NEG_BIG: f32 = -1.0e30;
override HS: u32 = 64u;   // head size
override BQ: u32 = 16u;   // query rows per workgroup
override TPR: u32 = 4u;   // threads per row
override DPT: u32 = 16u;  // dims per thread, ceil(HS / TPR) <= MAX_DPT
override BK: u32 = 16u;   // keys per tile, <= MAX_BK
override WG: u32 = BQ * TPR;
override KV_TILE: u32 = BK * HS;
override PARTS: u32 = BQ * BK * TPR;

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

var<workgroup> k_tile: array<f32, KV_TILE>;
var<workgroup> v_tile: array<f32, KV_TILE>;
// Per (row, key, lane): the lane's share of the row's score for that key.
var<workgroup> part_s: array<f32, PARTS>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let n_heads = params.n_heads;
  let group = n_heads / params.n_kv_heads;
  let kvh = wg.y;
  let total = params.n_tokens * group;
  let row0 = wg.x * BQ;
  let local_row = lid / TPR;
  let lane = lid - local_row * TPR;
  let row = row0 + local_row;
  // Rows past the end compute the last row's values harmlessly and write nothing.
  let t = min(row, total - 1u) / group;
  let h = kvh * group + row % group;
  let q_pos = params.start_pos + t;
  // One past the last key any row of this tile may see: the bound is uniform, so barriers stay legal.
  let kv_end = params.start_pos + (min(row0 + BQ, total) - 1u) / group + 1u;

  let q_base = (t * n_heads + h) * HS;
  var qv: array<f32, MAX_DPT>;
  var o: array<f32, MAX_DPT>;
  for (var j = 0u; j < DPT; j++) {
    let d = lane + j * TPR;
    if (d < HS) {
      qv[j] = q[q_base + d] * params.scale;
    }
  }
  let head_base = kvh * params.capacity * HS;
  var m = NEG_BIG;
  var l = 0.0;
  var s: array<f32, MAX_BK>;
  for (var k0 = 0u; k0 < kv_end; k0 += BK) {
    // One head's keys k0.. are contiguous in the cache: the tile is one coalesced block.
    let live = min(BK, kv_end - k0) * HS;
    let src = head_base + k0 * HS;
    for (var e = lid; e < KV_TILE; e += WG) {
      var kx = 0.0;
      var vx = 0.0;
      if (e < live) {
        kx = cache_k[src + e];
        vx = cache_v[src + e];
      }
      k_tile[e] = kx;
      v_tile[e] = vx;
    }
    workgroupBarrier();

    for (var j = 0u; j < BK; j++) {
      var dot = 0.0;
      for (var jj = 0u; jj < DPT; jj++) {
        let d = lane + jj * TPR;
        if (d < HS) {
          dot += qv[jj] * k_tile[j * HS + d];
        }
      }
      part_s[(local_row * BK + j) * TPR + lane] = dot;
    }
    workgroupBarrier();

    var tile_max = NEG_BIG;
    for (var j = 0u; j < BK; j++) {
      var x = NEG_BIG;
      if (k0 + j <= q_pos) {
        x = 0.0;
        let base = (local_row * BK + j) * TPR;
        for (var r = 0u; r < TPR; r++) {
          x += part_s[base + r];
        }
      }
      s[j] = x;
      tile_max = max(tile_max, x);
    }
    let m_new = max(m, tile_max);
    let corr = exp(m - m_new);
    l *= corr;
    for (var jj = 0u; jj < DPT; jj++) {
      o[jj] *= corr;
    }
    for (var j = 0u; j < BK; j++) {
      if (k0 + j <= q_pos) {
        let p = exp(s[j] - m_new);
        l += p;
        for (var jj = 0u; jj < DPT; jj++) {
          let d = lane + jj * TPR;
          if (d < HS) {
            o[jj] += p * v_tile[j * HS + d];
          }
        }
      }
    }
    m = m_new;
    workgroupBarrier();
  }

  if (row < total) {
    let inv_l = 1.0 / l;
    for (var jj = 0u; jj < DPT; jj++) {
      let d = lane + jj * TPR;
      if (d < HS) {
        out[q_base + d] = o[jj] * inv_l;
      }
    }
  }
}

// KV cache write: copies the k and v rows of n_tokens new tokens, each (n_tokens, n_kv_heads * head_size), into
// the head-major caches [n_kv_heads, capacity, head_size] at positions start_pos.. . One invocation per element,
// in source order, so neighbouring invocations read and write neighbouring words.
override WG: u32 = 64u;

struct Params {
  n_tokens: u32,
  start_pos: u32,
  n_kv_heads: u32,
  head_size: u32,
  capacity: u32,
}

@group(0) @binding(0) var<storage, read> k: array<f32>;
@group(0) @binding(1) var<storage, read> v: array<f32>;
@group(0) @binding(2) var<storage, read_write> cache_k: array<f32>;
@group(0) @binding(3) var<storage, read_write> cache_v: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = (wg.x + wg.y * nwg.x) * WG + lid;
  let kv_dim = params.n_kv_heads * params.head_size;
  if (i >= params.n_tokens * kv_dim) {
    return;
  }
  let t = i / kv_dim;
  let r = i - t * kv_dim;
  let h = r / params.head_size;
  let d = r - h * params.head_size;
  let dst = (h * params.capacity + params.start_pos + t) * params.head_size + d;
  cache_k[dst] = k[i];
  cache_v[dst] = v[i];
}

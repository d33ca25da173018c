// RoPE in place on x (n_tokens, n_heads * head_size): one invocation per (token, head, rotated pair), no
// shared memory. Pair i is (x[2i], x[2i+1]) for llama.cpp NORM (neox = 0) or (x[i], x[i + n_rot/2]) for
// NEOX (neox = 1); dims from n_rot on are left alone. Token t sits at position start_pos + t.
//
// Why integers: at position 1e5 an f32 angle pos * inv_freq is off by ~1e-2 rad, and sin/cos are only
// accurate near [-pi, pi]. So freqs[i] holds pair i's frequency in turns per position as a 64-bit binary
// fraction (hi, lo), made in float64 by the launcher. pos * freq mod 1 turn is then exact in u32
// arithmetic, and its top 32 bits are the angle to within 2^-32 turn. sin and cos come from polynomials after
// an integer reduction to a quadrant: builtin sin/cos need only be good to 2^-11 (SwiftShader's are ~2e-4 off).
override WG: u32 = 256u;

struct Params {
  n_tokens: u32,
  n_heads: u32,
  head_size: u32,
  n_rot: u32,
  start_pos: u32,
  neox: u32,
}

@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read> freqs: array<vec2<u32>>;
@group(0) @binding(2) var<uniform> params: Params;

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

// (sin, cos) of the angle turn * 2 pi / 2^32: the nearest quarter turn q is taken off exactly in integers,
// leaving |r| <= pi/4 where Taylor series to x^9 and x^10 are within 2e-9.
fn sin_cos_turn(turn: u32) -> vec2<f32> {
  let q = (turn + 0x20000000u) >> 30u;
  let r = f32(bitcast<i32>(turn - (q << 30u))) * 1.4629180792671596e-9; // 2 pi / 2^32
  let r2 = r * r;
  let s = r * (1.0 + r2 * (-1.0 / 6.0 + r2 * (1.0 / 120.0 + r2 * (-1.0 / 5040.0 + r2 * (1.0 / 362880.0)))));
  let c = 1.0 + r2 * (-0.5 + r2 * (1.0 / 24.0 + r2 * (-1.0 / 720.0 + r2 * (1.0 / 40320.0 + r2 * (-1.0 / 3628800.0)))));
  switch (q) {
    case 0u: {
      return vec2<f32>(s, c);
    }
    case 1u: {
      return vec2<f32>(c, -s);
    }
    case 2u: {
      return vec2<f32>(-s, -c);
    }
    default: {
      return vec2<f32>(-c, s);
    }
  }
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let half = params.n_rot / 2u;
  let g = (wg.y * groups.x + wg.x) * WG + lid;
  if (g >= params.n_tokens * params.n_heads * half) {
    return;
  }
  let pair = g % half;
  let head = (g / half) % params.n_heads;
  let token = g / (half * params.n_heads);
  let base = (token * params.n_heads + head) * params.head_size;
  var i0 = base + pair;
  var i1 = i0 + half;
  if (params.neox == 0u) {
    i0 = base + 2u * pair;
    i1 = i0 + 1u;
  }

  // Bits 32..63 of pos * (hi * 2^32 + lo), i.e. the fraction of a turn scaled by 2^32 (wrapping is mod 1 turn).
  let pos = params.start_pos + token;
  let f = freqs[pair];
  let turn = mul_hi(pos, f.y) + pos * f.x;
  let sc = sin_cos_turn(turn);
  let s = sc.x;
  let c = sc.y;
  let x0 = x[i0];
  let x1 = x[i1];
  x[i0] = x0 * c - x1 * s;
  x[i1] = x0 * s + x1 * c;
}

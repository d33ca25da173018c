// GEMV for q4_0 and q8_0 weights, barrier-free ("rowwise"): each invocation computes 16 rows, like gemv-rowwise.wgsl,
// with the pre-scaled x of each block pair (gemv-raw-prepass.wgsl) taken once for all 16. Joined after gemv-raw.wgsl,
// with one entry-point file: gemv-rowwise-raw-plain.wgsl, or gemv-rowwise-raw-subgroup.wgsl (which shares x loads
// across lanes). Both provide raw_x_pair.

// The scaled x of blocks 2p and 2p + 1.
struct XPair {
  a: XBlock,
  b: XBlock,
}

// The kernel's work: rows first .. first+15, `lane` being the invocation's subgroup lane (0 without subgroups), for
// raw_x_pair of the entry-point file.
fn raw_rows16(first: u32, lane: u32) {
  // Rows past the chunk repeat its last row (loads stay in bounds); their sums are not stored.
  let last = vec4<u32>(params.rows - 1u);
  let ra = min(vec4<u32>(first) + vec4<u32>(0u, 1u, 2u, 3u), last);
  let rb = min(vec4<u32>(first) + vec4<u32>(4u, 5u, 6u, 7u), last);
  let rc = min(vec4<u32>(first) + vec4<u32>(8u, 9u, 10u, 11u), last);
  let rd = min(vec4<u32>(first) + vec4<u32>(12u, 13u, 14u, 15u), last);
  var acc_a = vec4<f32>(0.0);
  var acc_b = vec4<f32>(0.0);
  var acc_c = vec4<f32>(0.0);
  var acc_d = vec4<f32>(0.0);
  let blocks = params.cols / 32u;
  // The block terms follow the cols scaled values: four per vec4, so a pair is one half of one.
  let terms = params.cols / 4u;
  for (var p = 0u; p < blocks / 2u; p++) {
    let x = raw_x_pair(p, lane);
    let t = xs[terms + p / 2u];
    let m = select(t.xy, t.zw, (p & 1u) == 1u);
    acc_a += pair_dot4(ra, p, x.a, x.b, m);
    acc_b += pair_dot4(rb, p, x.a, x.b, m);
    acc_c += pair_dot4(rc, p, x.a, x.b, m);
    acc_d += pair_dot4(rd, p, x.a, x.b, m);
  }
  for (var b = blocks & ~1u; b < blocks; b++) {
    let x = x_block(b);
    let m = xs[terms + b / 4u][b % 4u];
    acc_a += single_dot4(ra, b, x, m);
    acc_b += single_dot4(rb, b, x, m);
    acc_c += single_dot4(rc, b, x, m);
    acc_d += single_dot4(rd, b, x, m);
  }
  // store4 skips rows past the chunk, so invocations wholly past it store nothing.
  store4(first, acc_a);
  store4(first + 4u, acc_b);
  store4(first + 8u, acc_c);
  store4(first + 12u, acc_d);
}

// GEMM, barrier-free register tiling ("rowwise"): each invocation computes an 8 x 16 tile of Y (activation rows
// i0..i0+7, weight rows r0..r0+15) in eight mat4x4 accumulators. For each 32-block it prepares its sixteen weight
// rows once (w_block), and for each 8-element chunk dequantizes them in registers and runs every activation row
// against all sixteen. No shared memory, no barriers: the fast shape on CPU adapters, where every storage load is a
// per-lane gather, so the tile is as large as keeps compile time low (each activation value is loaded once per 16
// weight rows, each weight decoded once per 8 activation rows). Plain locals, not arrays or structs: a dynamically
// indexed private array is a gather too on SwiftShader, and big structs triple its compile time. Joined after
// gemm.wgsl and the activation and weight access files, with one entry-point file: gemm-rowwise-plain.wgsl, or
// gemm-rowwise-subgroup.wgsl (which shares the activation loads across lanes). Both provide tile_x.
override WG_X: u32 = 16u;
override WG_Y: u32 = 4u;

// The activation chunks of a tile's eight rows at one 8-column chunk.
struct TileX {
  a: mat2x4<f32>,
  b: mat2x4<f32>,
  c: mat2x4<f32>,
  d: mat2x4<f32>,
  e: mat2x4<f32>,
  f: mat2x4<f32>,
  g: mat2x4<f32>,
  h: mat2x4<f32>,
}

// acc plus one activation chunk against sixteen weight chunks: column g holds weight rows 4g .. 4g+3.
fn row16(
  acc: mat4x4<f32>,
  x: mat2x4<f32>,
  w0: mat2x4<f32>, w1: mat2x4<f32>, w2: mat2x4<f32>, w3: mat2x4<f32>,
  w4: mat2x4<f32>, w5: mat2x4<f32>, w6: mat2x4<f32>, w7: mat2x4<f32>,
  w8: mat2x4<f32>, w9: mat2x4<f32>, w10: mat2x4<f32>, w11: mat2x4<f32>,
  w12: mat2x4<f32>, w13: mat2x4<f32>, w14: mat2x4<f32>, w15: mat2x4<f32>,
) -> mat4x4<f32> {
  return mat4x4<f32>(
    vec4<f32>(dot8_acc(acc[0].x, x, w0), dot8_acc(acc[0].y, x, w1), dot8_acc(acc[0].z, x, w2), dot8_acc(acc[0].w, x, w3)),
    vec4<f32>(dot8_acc(acc[1].x, x, w4), dot8_acc(acc[1].y, x, w5), dot8_acc(acc[1].z, x, w6), dot8_acc(acc[1].w, x, w7)),
    vec4<f32>(
      dot8_acc(acc[2].x, x, w8), dot8_acc(acc[2].y, x, w9), dot8_acc(acc[2].z, x, w10), dot8_acc(acc[2].w, x, w11),
    ),
    vec4<f32>(
      dot8_acc(acc[3].x, x, w12), dot8_acc(acc[3].y, x, w13), dot8_acc(acc[3].z, x, w14), dot8_acc(acc[3].w, x, w15),
    ),
  );
}

// acc[g][j] = Y[i, r0 + 4g + j]: stores the entries that exist.
fn store_tile(i: u32, r0: u32, acc: mat4x4<f32>) {
  store_row(i, r0, 1u, acc[0]);
  store_row(i, r0 + 4u, 1u, acc[1]);
  store_row(i, r0 + 8u, 1u, acc[2]);
  store_row(i, r0 + 12u, 1u, acc[3]);
}

// The kernel's work: the tile at weight row r0 and activation row i0, `lane` being the invocation's subgroup lane (0
// without subgroups), for tile_x of the entry-point file.
fn gemm_rowwise_tile(r0: u32, i0: u32, lane: u32) {
  // Rows past the end repeat the last one: loads stay in bounds, their results are never stored.
  let rl = vec4<u32>(params.rows - 1u);
  let ra = min(vec4<u32>(r0) + vec4<u32>(0u, 1u, 2u, 3u), rl);
  let rb = min(vec4<u32>(r0) + vec4<u32>(4u, 5u, 6u, 7u), rl);
  let rc = min(vec4<u32>(r0) + vec4<u32>(8u, 9u, 10u, 11u), rl);
  let rd = min(vec4<u32>(r0) + vec4<u32>(12u, 13u, 14u, 15u), rl);
  let il = vec4<u32>(params.m - 1u);
  let ia = min(vec4<u32>(i0) + vec4<u32>(0u, 1u, 2u, 3u), il);
  let ib = min(vec4<u32>(i0) + vec4<u32>(4u, 5u, 6u, 7u), il);
  let zero = mat4x4<f32>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  var acc0 = zero;
  var acc1 = zero;
  var acc2 = zero;
  var acc3 = zero;
  var acc4 = zero;
  var acc5 = zero;
  var acc6 = zero;
  var acc7 = zero;
  let blocks = params.cols / 32u;
  for (var b = 0u; b < blocks; b++) {
    let b0 = w_block(ra.x, b); let b1 = w_block(ra.y, b); let b2 = w_block(ra.z, b); let b3 = w_block(ra.w, b);
    let b4 = w_block(rb.x, b); let b5 = w_block(rb.y, b); let b6 = w_block(rb.z, b); let b7 = w_block(rb.w, b);
    let b8 = w_block(rc.x, b); let b9 = w_block(rc.y, b); let b10 = w_block(rc.z, b); let b11 = w_block(rc.w, b);
    let b12 = w_block(rd.x, b); let b13 = w_block(rd.y, b); let b14 = w_block(rd.z, b); let b15 = w_block(rd.w, b);
    // WScale is an f32 or a vec2 (types with mins), so sixteen plain locals rather than packed vectors.
    let d0 = w_scale(ra.x, b); let d1 = w_scale(ra.y, b); let d2 = w_scale(ra.z, b); let d3 = w_scale(ra.w, b);
    let d4 = w_scale(rb.x, b); let d5 = w_scale(rb.y, b); let d6 = w_scale(rb.z, b); let d7 = w_scale(rb.w, b);
    let d8 = w_scale(rc.x, b); let d9 = w_scale(rc.y, b); let d10 = w_scale(rc.z, b); let d11 = w_scale(rc.w, b);
    let d12 = w_scale(rd.x, b); let d13 = w_scale(rd.y, b); let d14 = w_scale(rd.z, b); let d15 = w_scale(rd.w, b);
    for (var c = 0u; c < 4u; c++) {
      let w0 = w_chunk(b0, c, d0); let w1 = w_chunk(b1, c, d1);
      let w2 = w_chunk(b2, c, d2); let w3 = w_chunk(b3, c, d3);
      let w4 = w_chunk(b4, c, d4); let w5 = w_chunk(b5, c, d5);
      let w6 = w_chunk(b6, c, d6); let w7 = w_chunk(b7, c, d7);
      let w8 = w_chunk(b8, c, d8); let w9 = w_chunk(b9, c, d9);
      let w10 = w_chunk(b10, c, d10); let w11 = w_chunk(b11, c, d11);
      let w12 = w_chunk(b12, c, d12); let w13 = w_chunk(b13, c, d13);
      let w14 = w_chunk(b14, c, d14); let w15 = w_chunk(b15, c, d15);
      let x = tile_x(i0, ia, ib, b * 4u + c, lane);
      acc0 = row16(acc0, x.a, w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12, w13, w14, w15);
      acc1 = row16(acc1, x.b, w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12, w13, w14, w15);
      acc2 = row16(acc2, x.c, w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12, w13, w14, w15);
      acc3 = row16(acc3, x.d, w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12, w13, w14, w15);
      acc4 = row16(acc4, x.e, w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12, w13, w14, w15);
      acc5 = row16(acc5, x.f, w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12, w13, w14, w15);
      acc6 = row16(acc6, x.g, w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12, w13, w14, w15);
      acc7 = row16(acc7, x.h, w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12, w13, w14, w15);
    }
  }
  // The partial chunks at the end of float rows (cols % 32 != 0): the same step with zero-filling loads.
  for (var k8 = blocks * 4u; k8 * 8u < params.cols; k8++) {
    let w0 = w_load8_tail(ra.x, k8); let w1 = w_load8_tail(ra.y, k8);
    let w2 = w_load8_tail(ra.z, k8); let w3 = w_load8_tail(ra.w, k8);
    let w4 = w_load8_tail(rb.x, k8); let w5 = w_load8_tail(rb.y, k8);
    let w6 = w_load8_tail(rb.z, k8); let w7 = w_load8_tail(rb.w, k8);
    let w8 = w_load8_tail(rc.x, k8); let w9 = w_load8_tail(rc.y, k8);
    let w10 = w_load8_tail(rc.z, k8); let w11 = w_load8_tail(rc.w, k8);
    let w12 = w_load8_tail(rd.x, k8); let w13 = w_load8_tail(rd.y, k8);
    let w14 = w_load8_tail(rd.z, k8); let w15 = w_load8_tail(rd.w, k8);
    acc0 = row16(acc0, x_chunk_tail(ia.x, k8), w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12, w13, w14, w15);
    acc1 = row16(acc1, x_chunk_tail(ia.y, k8), w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12, w13, w14, w15);
    acc2 = row16(acc2, x_chunk_tail(ia.z, k8), w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12, w13, w14, w15);
    acc3 = row16(acc3, x_chunk_tail(ia.w, k8), w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12, w13, w14, w15);
    acc4 = row16(acc4, x_chunk_tail(ib.x, k8), w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12, w13, w14, w15);
    acc5 = row16(acc5, x_chunk_tail(ib.y, k8), w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12, w13, w14, w15);
    acc6 = row16(acc6, x_chunk_tail(ib.z, k8), w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12, w13, w14, w15);
    acc7 = row16(acc7, x_chunk_tail(ib.w, k8), w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12, w13, w14, w15);
  }
  store_tile(i0, r0, acc0);
  store_tile(i0 + 1u, r0, acc1);
  store_tile(i0 + 2u, r0, acc2);
  store_tile(i0 + 3u, r0, acc3);
  store_tile(i0 + 4u, r0, acc4);
  store_tile(i0 + 5u, r0, acc5);
  store_tile(i0 + 6u, r0, acc6);
  store_tile(i0 + 7u, r0, acc7);
}

// gemv (decode matmul) against the float64 reference, every weight type and variant, on awkward shapes, split
// weights and folded grids.
import { describe, expect, test } from "vitest";
import { gemv, MATMUL_VARIANTS, type MatmulVariant } from "./gemv.ts";
import { runDispatches } from "./dispatch.ts";
import { uploadBuffer } from "../gpu/readback.ts";
import type { GpuContext } from "../gpu/device.ts";
import { matmul, matmulTermScale } from "../reference/matmul.ts";
import type { WeightType } from "../loaders/ggml-quants.ts";
import { planeStrides } from "../loaders/repack.ts";
import { expectClose, freshSeed, guardedOutput, randomF32, readGuardedF32, rng, testContext } from "./testing.ts";
import { randomWeight, withBindingLimit, withMaxWorkgroups, withoutSubgroups } from "./weight-fixtures.ts";

// f32 accumulation over up to 4160 products, normalised by the largest output or the largest sum of |terms|,
// whichever is bigger (a one-row case can cancel to a small output; rowwise q4_0 and q8_0 also sum q * x and
// subtract 8 or 128 times sum(x) per block).
const TOLERANCE = 2e-5;

const SHAPES: Record<WeightType, [rows: number, cols: number][]> = {
  f32: [
    [1, 1],
    [257, 33],
    [3, 65],
    [5, 4100],
  ],
  f16: [
    [1, 33],
    [257, 65],
    [2, 7],
    [4, 4096],
  ],
  q8_0: [
    [1, 32],
    [257, 4160],
    [6, 96],
  ],
  q4_0: [
    [1, 32],
    [257, 4160],
    [6, 96],
  ],
  q4_1: [
    [1, 32],
    [257, 4160],
  ],
  q5_0: [
    [1, 96],
    [257, 4160],
  ],
  q5_1: [
    [1, 32],
    [257, 4160],
  ],
  // K-quants: 256-element super-blocks; 4352 = 17 of them.
  q4_k: [
    [1, 256],
    [257, 4352],
  ],
  q5_k: [
    [1, 256],
    [257, 4352],
  ],
  q6_k: [
    [1, 256],
    [257, 4352],
  ],
};

async function check(
  ctx: GpuContext,
  type: WeightType,
  rows: number,
  cols: number,
  variant: MatmulVariant,
  name: string,
): Promise<void> {
  const seed = freshSeed();
  const random = rng(seed);
  const w = randomWeight(ctx, type, rows, cols, random);
  const x = randomF32(cols, random, 1);
  const out = guardedOutput(ctx, rows);
  const k = await gemv(ctx, { weight: w.gpu, x: uploadBuffer(ctx.device, x), out: out.binding, variant });
  await runDispatches(ctx, k.dispatches);
  const got = await readGuardedF32(ctx, out);
  const want = matmul(new Float64Array(rows), x, w.values, 1, rows, cols);
  expectClose(name, seed, got, want, TOLERANCE, matmulTermScale(x, w.values, 1, rows, cols));
  expect(k.dispatches.length).toBe(w.gpu.chunks.length + prepassDispatches(type, variant));
}

/** Rowwise q4_0 and q8_0 run their pre-pass over x before the row chunks. */
function prepassDispatches(type: WeightType, variant: MatmulVariant): number {
  return (type === "q4_0" || type === "q8_0") && variant === "rowwise" ? 1 : 0;
}

describe("gemv", () => {
  for (const [type, shapes] of Object.entries(SHAPES) as [WeightType, [number, number][]][]) {
    for (const [rows, cols] of shapes) {
      for (const variant of MATMUL_VARIANTS) {
        const name = `gemv-${type}(rows=${rows}, cols=${cols}, ${variant})`;
        test(name, async () => check(await testContext(), type, rows, cols, variant, name));
      }
      // Both variants have a subgroup kernel and a fallback without, for every type.
      for (const variant of MATMUL_VARIANTS) {
        const name = `gemv-${type}(rows=${rows}, cols=${cols}, ${variant}, no subgroups)`;
        test(name, async () => {
          const ctx = await testContext();
          await withoutSubgroups(ctx, () => check(ctx, type, rows, cols, variant, name));
        });
      }
    }
  }

  for (const [type, cols] of [
    ["q4_0", 4160],
    ["f16", 65],
    ["q8_0", 64],
    ["f32", 33],
    ["q4_1", 64],
    ["q5_0", 96],
    ["q5_1", 160],
    ["q4_k", 512],
    ["q5_k", 256],
    ["q6_k", 768],
  ] as const) {
    for (const variant of MATMUL_VARIANTS) {
      const name = `gemv-${type}(rows=257, cols=${cols}, ${variant}, split into row chunks)`;
      test(name, async () => {
        const ctx = await testContext();
        // About 100 rows per chunk: the weight spans three chunks.
        const { codeWords, scaleWords } = planeStrides(type, cols);
        await withBindingLimit(ctx, Math.max(codeWords, scaleWords) * 4 * 100, async () => {
          const seed = freshSeed();
          const random = rng(seed);
          const w = randomWeight(ctx, type, 257, cols, random);
          expect(w.gpu.chunks.length).toBe(3);
          const x = randomF32(cols, random, 1);
          const out = guardedOutput(ctx, 257);
          const k = await gemv(ctx, { weight: w.gpu, x: uploadBuffer(ctx.device, x), out: out.binding, variant });
          expect(k.dispatches.length).toBe(3 + prepassDispatches(type, variant));
          await runDispatches(ctx, k.dispatches);
          const got = await readGuardedF32(ctx, out);
          expectClose(name, seed, got, matmul(new Float64Array(257), x, w.values, 1, 257, cols), TOLERANCE);
        });
      });
    }
  }

  // rowwise: 1100 rows at 512 per workgroup = 3 workgroups, folded as 2 x 2 (q4_0 and q8_0, whose raw kernel takes
  // 1024 rows per workgroup: 2100 rows); cooperative: 257 rows at 4 per workgroup = 65, folded as 9 x 8.
  for (const [type, variant, rows, max] of [
    ["f16", "rowwise", 1100, 2],
    ["q8_0", "rowwise", 2100, 2],
    ["q4_0", "rowwise", 2100, 2],
    ["q8_0", "cooperative", 257, 9],
  ] as const) {
    const name = `gemv-${type}(rows=${rows}, cols=64, ${variant}, grid folded at ${max} workgroups per dimension)`;
    test(name, async () => {
      const ctx = withMaxWorkgroups(await testContext(), max);
      await check(ctx, type, rows, 64, variant, name);
    });
  }

  test("gemv rejects buffers too small and unknown variants, naming the shapes", async () => {
    const ctx = await testContext();
    const w = randomWeight(ctx, "q4_0", 8, 64, rng(1));
    const small = uploadBuffer(ctx.device, new Float32Array(8));
    const big = uploadBuffer(ctx.device, new Float32Array(64));
    expect(() => gemv(ctx, { weight: w.gpu, x: small, out: big })).toThrow(
      /gemv-q4_0\(rows=8, cols=64\): x \(cols=64 f32\) needs 256 bytes, the binding holds 32/,
    );
    expect(() => gemv(ctx, { weight: w.gpu, x: big, out: { buffer: big, offset: 0, size: 16 } })).toThrow(
      /out \(rows=8 f32\) needs 32 bytes, the binding holds 16/,
    );
    expect(() => gemv(ctx, { weight: w.gpu, x: big, out: big, variant: "fast" as MatmulVariant })).toThrow(
      /unknown variant "fast"/,
    );
    const q2k = { ...w.gpu, type: "q2_k" as WeightType };
    expect(() => gemv(ctx, { weight: q2k, x: big, out: big })).toThrow(/type q2_k have no kernels/);
  });
});

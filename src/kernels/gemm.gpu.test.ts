// gemm (prefill matmul) against the float64 reference, every weight type and variant, on awkward shapes and split
// weights.
import { describe, expect, test } from "vitest";
import { gemm } from "./gemm.ts";
import { MATMUL_VARIANTS, type MatmulVariant } from "./gemv.ts";
import { runDispatches } from "./dispatch.ts";
import { uploadBuffer } from "../gpu/readback.ts";
import type { GpuContext } from "../gpu/device.ts";
import { matmul, matmulTermScale } from "../reference/matmul.ts";
import type { WeightType } from "../loaders/ggml-quants.ts";
import { planeStrides } from "../loaders/repack.ts";
import { expectClose, freshSeed, guardedOutput, randomF32, readGuardedF32, rng, testContext } from "./testing.ts";
import { randomWeight, withBindingLimit, withoutSubgroups } from "./weight-fixtures.ts";

// f32 accumulation over up to 4160 products, normalised by the largest output or the largest sum of |terms|,
// whichever is bigger (a one-row case can cancel to a small output).
const TOLERANCE = 2e-5;

const SHAPES: Record<WeightType, [m: number, rows: number, cols: number][]> = {
  f32: [
    [2, 1, 1],
    [5, 257, 33],
    [67, 9, 65],
    [3, 6, 4100],
    [2, 5, 64],
  ],
  f16: [
    [2, 1, 33],
    [5, 257, 65],
    [67, 6, 7],
    [3, 5, 4096],
  ],
  q8_0: [
    [2, 1, 32],
    [5, 257, 4160],
    [67, 33, 96],
  ],
  q4_0: [
    [2, 1, 32],
    [5, 257, 4160],
    [67, 33, 96],
  ],
  q4_1: [
    [2, 1, 32],
    [5, 257, 4160],
  ],
  q5_0: [
    [2, 1, 96],
    [5, 257, 4160],
  ],
  q5_1: [
    [67, 33, 32],
    [5, 257, 4160],
  ],
  // K-quants: 256-element super-blocks; 4352 = 17 of them.
  q4_k: [
    [2, 1, 256],
    [5, 257, 4352],
  ],
  q5_k: [
    [67, 33, 256],
    [5, 257, 4352],
  ],
  q6_k: [
    [2, 1, 256],
    [5, 257, 4352],
  ],
};

async function check(
  ctx: GpuContext,
  type: WeightType,
  m: number,
  rows: number,
  cols: number,
  variant: MatmulVariant,
  name: string,
): Promise<number> {
  const seed = freshSeed();
  const random = rng(seed);
  const w = randomWeight(ctx, type, rows, cols, random);
  const x = randomF32(m * cols, random, 1);
  const out = guardedOutput(ctx, m * rows);
  const k = await gemm(ctx, { weight: w.gpu, x: uploadBuffer(ctx.device, x), out: out.binding, m, variant });
  await runDispatches(ctx, k.dispatches);
  const got = await readGuardedF32(ctx, out);
  const want = matmul(new Float64Array(m * rows), x, w.values, m, rows, cols);
  expectClose(name, seed, got, want, TOLERANCE, matmulTermScale(x, w.values, m, rows, cols));
  return w.gpu.chunks.length;
}

describe("gemm", () => {
  for (const [type, shapes] of Object.entries(SHAPES) as [WeightType, [number, number, number][]][]) {
    for (const [m, rows, cols] of shapes) {
      for (const variant of MATMUL_VARIANTS) {
        const name = `gemm-${type}(m=${m}, rows=${rows}, cols=${cols}, ${variant})`;
        test(name, async () => {
          await check(await testContext(), type, m, rows, cols, variant, name);
        });
      }
      // Rowwise shares activation loads across subgroup lanes; the fallback without subgroups loads its own.
      const name = `gemm-${type}(m=${m}, rows=${rows}, cols=${cols}, rowwise, no subgroups)`;
      test(name, async () => {
        const ctx = await testContext();
        await withoutSubgroups(ctx, () => check(ctx, type, m, rows, cols, "rowwise", name));
      });
    }
  }

  for (const [type, cols] of [
    ["q4_0", 96],
    ["f16", 65],
    ["q8_0", 64],
    ["f32", 36],
    ["q5_1", 64],
    ["q4_k", 256],
    ["q6_k", 512],
  ] as const) {
    for (const variant of MATMUL_VARIANTS) {
      const name = `gemm-${type}(m=5, rows=257, cols=${cols}, ${variant}, split into row chunks)`;
      test(name, async () => {
        const ctx = await testContext();
        // About 100 rows per chunk: the weight spans three chunks.
        const { codeWords, scaleWords } = planeStrides(type, cols);
        await withBindingLimit(ctx, Math.max(codeWords, scaleWords) * 4 * 100, async () => {
          expect(await check(ctx, type, 5, 257, cols, variant, name)).toBe(3);
        });
      });
    }
  }

  test("gemm rejects bad m, buffers too small and unknown variants, naming the shapes", async () => {
    const ctx = await testContext();
    const w = randomWeight(ctx, "q8_0", 8, 64, rng(1));
    const x = uploadBuffer(ctx.device, new Float32Array(3 * 64));
    const out = uploadBuffer(ctx.device, new Float32Array(3 * 8));
    expect(() => gemm(ctx, { weight: w.gpu, x, out, m: 0 })).toThrow(/gemm-q8_0\(m=0, rows=8, cols=64\): m must be/);
    expect(() => gemm(ctx, { weight: w.gpu, x, out, m: 4 })).toThrow(
      /x \(m=4 x cols=64 f32\) needs 1024 bytes, the binding holds 768/,
    );
    expect(() => gemm(ctx, { weight: w.gpu, x, out: { buffer: out, size: 64 }, m: 3 })).toThrow(
      /out \(m=3 x rows=8 f32\) needs 96 bytes, the binding holds 64/,
    );
    expect(() => gemm(ctx, { weight: w.gpu, x, out, m: 3, variant: "tiled" as MatmulVariant })).toThrow(
      /unknown variant "tiled"/,
    );
  });
});

// embedding lookup against the float64 reference, every weight type, split tables and out-of-range token ids.
import { describe, expect, test } from "vitest";
import { embedding } from "./embedding.ts";
import { runDispatches } from "./dispatch.ts";
import { uploadBuffer } from "../gpu/readback.ts";
import type { GpuContext } from "../gpu/device.ts";
import { embedding as embeddingRef } from "../reference/matmul.ts";
import type { WeightType } from "../loaders/ggml-quants.ts";
import { planeStrides } from "../loaders/repack.ts";
import { expectClose, freshSeed, guardedOutput, readGuardedF32, rng, testContext } from "./testing.ts";
import { randomWeight, withBindingLimit, withMaxWorkgroups } from "./weight-fixtures.ts";

// A gather: the dequantized values must come back exactly.
const TOLERANCE = 0;

const SHAPES: Record<WeightType, [count: number, vocabSize: number, dim: number][]> = {
  f32: [
    [1, 1, 1],
    [5, 257, 33],
    [67, 40, 65],
  ],
  f16: [
    [1, 3, 7],
    [5, 257, 65],
    [3, 9, 4096],
  ],
  q8_0: [
    [1, 1, 32],
    [5, 257, 4160],
    [67, 20, 96],
  ],
  q4_0: [
    [1, 1, 32],
    [5, 257, 4160],
    [67, 20, 96],
  ],
  q4_1: [
    [1, 1, 32],
    [5, 257, 4160],
  ],
  q5_0: [
    [1, 1, 96],
    [5, 257, 4160],
  ],
  q5_1: [
    [67, 20, 32],
    [5, 257, 4160],
  ],
  // K-quants: 256-element super-blocks; 4352 = 17 of them.
  q4_k: [
    [1, 1, 256],
    [5, 257, 4352],
  ],
  q5_k: [
    [67, 20, 512],
    [5, 257, 4352],
  ],
  q6_k: [
    [1, 1, 256],
    [5, 257, 4352],
  ],
};

async function check(
  ctx: GpuContext,
  type: WeightType,
  count: number,
  vocabSize: number,
  dim: number,
  name: string,
  extraIds: number[] = [],
): Promise<number> {
  const seed = freshSeed();
  const random = rng(seed);
  const table = randomWeight(ctx, type, vocabSize, dim, random);
  const ids = Uint32Array.from({ length: count }, (_, i) => extraIds[i] ?? Math.floor(random() * vocabSize));
  const out = guardedOutput(ctx, count * dim);
  const k = await embedding(ctx, { table: table.gpu, tokens: uploadBuffer(ctx.device, ids), out: out.binding, count });
  await runDispatches(ctx, k.dispatches);
  const got = await readGuardedF32(ctx, out);
  const want = embeddingRef(new Float64Array(count * dim), table.values, ids, count, vocabSize, dim);
  expectClose(name, seed, got, want, TOLERANCE);
  return table.gpu.chunks.length;
}

describe("embedding", () => {
  for (const [type, shapes] of Object.entries(SHAPES) as [WeightType, [number, number, number][]][]) {
    for (const [count, vocabSize, dim] of shapes) {
      const name = `embedding-${type}(count=${count}, vocabSize=${vocabSize}, dim=${dim})`;
      test(name, async () => {
        await check(await testContext(), type, count, vocabSize, dim, name);
      });
    }
  }

  for (const [type, dim] of [
    ["q4_0", 64],
    ["f16", 33],
    ["f32", 65],
    ["q5_0", 96],
    ["q5_k", 256],
    ["q6_k", 512],
  ] as const) {
    const name = `embedding-${type}(count=9, vocabSize=257, dim=${dim}, split into row chunks, ids past the table)`;
    test(name, async () => {
      const ctx = await testContext();
      const { codeWords, scaleWords } = planeStrides(type, dim);
      await withBindingLimit(ctx, Math.max(codeWords, scaleWords) * 4 * 100, async () => {
        // First and last row of each chunk, then ids past the table: rows of zeros.
        const ids = [0, 99, 100, 199, 200, 256, 257, 1000, 0xffffffff];
        expect(await check(ctx, type, ids.length, 257, dim, name, ids)).toBe(3);
      });
    });
  }

  test("embedding-q8_0(count=70, vocabSize=5, dim=64, grid folded at 9 workgroups per dimension)", async () => {
    const ctx = withMaxWorkgroups(await testContext(), 9);
    await check(ctx, "q8_0", 70, 5, 64, "embedding-q8_0(count=70, folded grid)");
  });

  test("embedding rejects a zero count and buffers too small, naming the shapes", async () => {
    const ctx = await testContext();
    const table = randomWeight(ctx, "q4_0", 8, 64, rng(1));
    const tokens = uploadBuffer(ctx.device, new Uint32Array(4));
    const out = uploadBuffer(ctx.device, new Float32Array(4 * 64));
    expect(() => embedding(ctx, { table: table.gpu, tokens, out, count: 0 })).toThrow(
      /embedding-q4_0\(count=0, vocabSize=8, dim=64\): count must be/,
    );
    expect(() => embedding(ctx, { table: table.gpu, tokens, out, count: 5 })).toThrow(
      /tokens \(count=5 u32\) needs 20 bytes, the binding holds 16/,
    );
    expect(() => embedding(ctx, { table: table.gpu, tokens, out: { buffer: out, size: 512 }, count: 3 })).toThrow(
      /out \(count=3 x dim=64 f32\) needs 768 bytes, the binding holds 512/,
    );
  });
});

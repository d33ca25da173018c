// attention-prefill (causal, GQA, over the KV cache) against the float64 reference, both variants.
import { describe, test, expect } from "vitest";
import {
  attentionPrefill,
  attentionPrefillKernel,
  attentionPrefillSources,
  type AttentionPrefillArgs,
} from "./attention-prefill.ts";
import { wgslParamFields } from "../gpu/uniforms.ts";
import { createKvCache, type AttentionVariant, type KvCacheShape } from "./kv-cache.ts";
import { runDispatches } from "./dispatch.ts";
import { uploadBuffer } from "../gpu/readback.ts";
import { attention } from "../reference/attention.ts";
import { expectClose, freshSeed, guardedOutput, randomF32, readGuardedF32, rng, testContext } from "./testing.ts";

// f32 dot products and exp over up to a few hundred keys against float64.
const TOLERANCE = 2e-5;

type Case = [nHeads: number, nKvHeads: number, headSize: number, capacity: number, nTokens: number, startPos: number];

const cases: Case[] = [
  [1, 1, 4, 1, 1, 0],
  [4, 4, 8, 40, 7, 0],
  [8, 2, 40, 100, 33, 20],
  [4, 2, 64, 64, 33, 31],
  [8, 1, 36, 50, 7, 3],
  [16, 2, 8, 40, 33, 0],
  [4, 2, 128, 80, 33, 40],
  [2, 2, 256, 40, 7, 5],
  [32, 8, 64, 300, 33, 200],
  [6, 2, 64, 50, 7, 10],
  [12, 2, 8, 40, 33, 1],
];

const variants: AttentionVariant[] = ["rowwise", "cooperative"];

/** Random K/V up to position `filled`, NaN after it: a read past the causal range poisons the output. */
function cacheData(shape: KvCacheShape, filled: number, random: () => number): Float32Array {
  const data = randomF32(shape.nKvHeads * shape.capacity * shape.headSize, random, 2);
  for (let h = 0; h < shape.nKvHeads; h++) {
    data.fill(NaN, (h * shape.capacity + filled + 1) * shape.headSize, (h + 1) * shape.capacity * shape.headSize);
  }
  return data;
}

function reference(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  shape: KvCacheShape,
  nHeads: number,
  nTokens: number,
  startPos: number,
  scale = 1 / Math.sqrt(shape.headSize),
) {
  const out = new Float64Array(nTokens * nHeads * shape.headSize);
  return attention(out, q, k, v, { ...shape, nHeads, nTokens, startPos, scale });
}

describe("attention-prefill", () => {
  test("both shaders' struct Params match the launcher's field list", () => {
    for (const source of Object.values(attentionPrefillSources)) {
      expect(wgslParamFields(source)).toEqual(attentionPrefillKernel.params.fields);
    }
  });

  for (const variant of variants) {
    for (const [nHeads, nKvHeads, headSize, capacity, nTokens, startPos] of cases) {
      const name =
        `attention-prefill-${variant}(nHeads=${nHeads}, nKvHeads=${nKvHeads}, headSize=${headSize}, ` +
        `capacity=${capacity}, nTokens=${nTokens}, startPos=${startPos})`;
      test(name, async () => {
        const ctx = await testContext();
        const seed = freshSeed();
        const random = rng(seed);
        const shape = { nKvHeads, capacity, headSize };
        const q = randomF32(nTokens * nHeads * headSize, random, 2);
        const k = cacheData(shape, startPos + nTokens - 1, random);
        const v = cacheData(shape, startPos + nTokens - 1, random);
        const out = guardedOutput(ctx, nTokens * nHeads * headSize);
        const kernel = await attentionPrefill(ctx, {
          q: uploadBuffer(ctx.device, q),
          cache: { k: uploadBuffer(ctx.device, k), v: uploadBuffer(ctx.device, v) },
          shape,
          out: out.binding,
          nHeads,
          nTokens,
          startPos,
          variant,
        });
        await runDispatches(ctx, kernel.dispatches);
        const want = reference(q, k, v, shape, nHeads, nTokens, startPos);
        expectClose(name, seed, await readGuardedF32(ctx, out), want, TOLERANCE);
      });
    }

    test(`attention-prefill-${variant} update({ start_pos, n_tokens }) runs the next, shorter chunk (scale 0.3)`, async () => {
      const ctx = await testContext();
      const seed = freshSeed();
      const random = rng(seed);
      const shape = { nKvHeads: 2, capacity: 70, headSize: 40 };
      const nHeads = 4;
      const k = cacheData(shape, 39, random);
      const v = cacheData(shape, 39, random);
      const qBuf = uploadBuffer(ctx.device, new Float32Array(33 * nHeads * shape.headSize));
      const out = guardedOutput(ctx, 33 * nHeads * shape.headSize);
      const kernel = await attentionPrefill(ctx, {
        q: qBuf,
        cache: { k: uploadBuffer(ctx.device, k), v: uploadBuffer(ctx.device, v) },
        shape,
        out: out.binding,
        nHeads,
        nTokens: 33,
        startPos: 0,
        scale: 0.3,
        variant,
      });
      await runDispatches(ctx, kernel.dispatches);
      const q = randomF32(7 * nHeads * shape.headSize, random, 2);
      ctx.device.queue.writeBuffer(qBuf, 0, new Float32Array(q));
      kernel.update({ start_pos: 33, n_tokens: 7 });
      await runDispatches(ctx, kernel.dispatches);
      const got = (await readGuardedF32(ctx, out)).subarray(0, q.length);
      const name = `attention-prefill-${variant}(chunk, startPos=33, nTokens=7)`;
      expectClose(name, seed, got, reference(q, k, v, shape, nHeads, 7, 33, 0.3), TOLERANCE);
      expect(() => kernel.update({ start_pos: 0, n_tokens: 34 })).toThrow(/n_tokens=34 .*nTokens=33/);
      expect(() => kernel.update({ start_pos: 64, n_tokens: 7 })).toThrow(/positions 64\.\.70.*capacity=70/);
    });
  }

  test("attention-prefill rejects bad shapes", async () => {
    const ctx = await testContext();
    const shape = { nKvHeads: 2, capacity: 16, headSize: 8 };
    const cache = createKvCache(ctx, 1, shape);
    const b = uploadBuffer(ctx.device, new Float32Array(3 * 6 * 8));
    const args: AttentionPrefillArgs = {
      q: b,
      cache: cache.layers[0],
      shape,
      out: b,
      nHeads: 6,
      nTokens: 3,
      startPos: 0,
    };
    await expect(attentionPrefill(ctx, { ...args, nHeads: 3 })).rejects.toThrow(/nHeads=3 .*nKvHeads=2/);
    await expect(attentionPrefill(ctx, { ...args, startPos: 14 })).rejects.toThrow(/positions 14\.\.16.*capacity=16/);
    await expect(attentionPrefill(ctx, { ...args, nTokens: 0 })).rejects.toThrow(/nTokens=0/);
    await expect(attentionPrefill(ctx, { ...args, nTokens: 4 })).rejects.toThrow(
      /q \(nTokens=4.*\) needs \d+ bytes, the binding holds 576/,
    );
    await expect(attentionPrefill(ctx, { ...args, shape: { ...shape, headSize: 257 } })).rejects.toThrow(
      /headSize=257/,
    );
    cache.destroy();
  });
});

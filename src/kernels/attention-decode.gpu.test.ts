// attention-decode (flash-decoding split + merge) against the float64 reference, every variant, GQA ratios 1..8.
import { describe, test, expect } from "vitest";
import {
  attentionDecode,
  attentionDecodeSplitKernel,
  attentionDecodeSplitSources,
  decodeSplits,
  type AttentionDecodeArgs,
} from "./attention-decode.ts";
import { wgslParamFields } from "../gpu/uniforms.ts";
import { createKvCache, type AttentionVariant, type KvCacheShape } from "./kv-cache.ts";
import { runDispatches } from "./dispatch.ts";
import { uploadBuffer } from "../gpu/readback.ts";
import { attention } from "../reference/attention.ts";
import { expectClose, freshSeed, guardedOutput, randomF32, readGuardedF32, rng, testContext } from "./testing.ts";

// f32 dot products and exp over up to 1001 keys against float64: errors stay near 1e-6 of the output scale.
const TOLERANCE = 2e-5;

type Case = [nHeads: number, nKvHeads: number, headSize: number, capacity: number, pos: number, nSplits?: number];

const cases: Case[] = [
  [1, 1, 4, 1, 0],
  [4, 4, 8, 16, 1],
  [6, 3, 64, 1031, 0],
  [8, 2, 40, 1031, 130],
  [32, 8, 64, 1031, 1000],
  [8, 1, 36, 200, 199],
  [2, 1, 64, 1031, 130, 64],
  [2, 2, 256, 70, 69, 3],
  [12, 2, 40, 300, 299],
];

type Style = { variant: AttentionVariant; subgroups?: boolean; label: string };

async function styles(): Promise<Style[]> {
  const ctx = await testContext();
  const all: Style[] = [
    { variant: "rowwise", label: "rowwise" },
    { variant: "cooperative", subgroups: false, label: "cooperative" },
  ];
  if (ctx.features.subgroups) all.push({ variant: "cooperative", subgroups: true, label: "cooperative+subgroups" });
  return all;
}

/** Random K/V up to position `filled`, NaN after it: a read past the live range poisons the output. */
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
  pos: number,
  scale = 1 / Math.sqrt(shape.headSize),
) {
  const out = new Float64Array(nHeads * shape.headSize);
  return attention(out, q, k, v, { ...shape, nHeads, nTokens: 1, startPos: pos, scale });
}

describe("attention-decode", async () => {
  test("every split shader's struct Params matches the launcher's field list", () => {
    for (const source of Object.values(attentionDecodeSplitSources)) {
      expect(wgslParamFields(source)).toEqual(attentionDecodeSplitKernel.params.fields);
    }
  });

  for (const style of await styles()) {
    for (const [nHeads, nKvHeads, headSize, capacity, pos, nSplits] of cases) {
      const name =
        `attention-decode-${style.label}(nHeads=${nHeads}, nKvHeads=${nKvHeads}, headSize=${headSize}, ` +
        `capacity=${capacity}, pos=${pos}${nSplits ? `, nSplits=${nSplits}` : ""})`;
      test(name, async () => {
        const ctx = await testContext();
        const seed = freshSeed();
        const random = rng(seed);
        const shape = { nKvHeads, capacity, headSize };
        const q = randomF32(nHeads * headSize, random, 2);
        const k = cacheData(shape, pos, random);
        const v = cacheData(shape, pos, random);
        const out = guardedOutput(ctx, nHeads * headSize);
        const kernel = await attentionDecode(ctx, {
          q: uploadBuffer(ctx.device, q),
          cache: { k: uploadBuffer(ctx.device, k), v: uploadBuffer(ctx.device, v) },
          shape,
          out: out.binding,
          nHeads,
          pos,
          nSplits,
          variant: style.variant,
          subgroups: style.subgroups,
        });
        await runDispatches(ctx, kernel.dispatches);
        expectClose(name, seed, await readGuardedF32(ctx, out), reference(q, k, v, shape, nHeads, pos), TOLERANCE);
      });
    }

    test(`attention-decode-${style.label} update({ pos }) walks one prepared kernel through the cache (scale 0.05)`, async () => {
      const ctx = await testContext();
      const seed = freshSeed();
      const random = rng(seed);
      const shape = { nKvHeads: 2, capacity: 1031, headSize: 64 };
      const nHeads = 8;
      const k = cacheData(shape, 1030, random);
      const v = cacheData(shape, 1030, random);
      const qBuf = uploadBuffer(ctx.device, new Float32Array(nHeads * shape.headSize));
      const out = guardedOutput(ctx, nHeads * shape.headSize);
      const kernel = await attentionDecode(ctx, {
        q: qBuf,
        cache: { k: uploadBuffer(ctx.device, k), v: uploadBuffer(ctx.device, v) },
        shape,
        out: out.binding,
        nHeads,
        pos: 0,
        scale: 0.05,
        variant: style.variant,
        subgroups: style.subgroups,
      });
      expect(kernel.nSplits).toBe(decodeSplits(shape.capacity, style.variant));
      for (const pos of [0, 1, 130, 1030]) {
        const q = randomF32(nHeads * shape.headSize, random, 2);
        ctx.device.queue.writeBuffer(qBuf, 0, new Float32Array(q));
        kernel.update({ pos });
        await runDispatches(ctx, kernel.dispatches);
        const name = `attention-decode-${style.label}(steps, pos=${pos})`;
        expectClose(
          name,
          seed,
          await readGuardedF32(ctx, out),
          reference(q, k, v, shape, nHeads, pos, 0.05),
          TOLERANCE,
        );
      }
      expect(() => kernel.update({ pos: 1031 })).toThrow(/positions 1031\.\.1031.*capacity=1031/);
    });
  }

  test("attention-decode rejects bad shapes", async () => {
    const ctx = await testContext();
    const shape = { nKvHeads: 2, capacity: 16, headSize: 8 };
    const cache = createKvCache(ctx, 1, shape);
    const b = uploadBuffer(ctx.device, new Float32Array(6 * 8));
    const args: AttentionDecodeArgs = { q: b, cache: cache.layers[0], shape, out: b, nHeads: 6, pos: 3 };
    await expect(attentionDecode(ctx, { ...args, nHeads: 5 })).rejects.toThrow(/nHeads=5 .*nKvHeads=2/);
    await expect(attentionDecode(ctx, { ...args, pos: 16 })).rejects.toThrow(/positions 16\.\.16.*capacity=16/);
    await expect(attentionDecode(ctx, { ...args, nHeads: 8 })).rejects.toThrow(
      /q \(nHeads=8, headSize=8\) needs 256 bytes, the binding holds 192/,
    );
    await expect(attentionDecode(ctx, { ...args, nSplits: 17 })).rejects.toThrow(/nSplits=17/);
    await expect(attentionDecode(ctx, { ...args, shape: { ...shape, capacity: 32 } })).rejects.toThrow(
      /cache\.k \(.*capacity=32.*\) needs \d+ bytes, the binding holds 1024/,
    );
    const noSubgroups = { ...ctx, features: { ...ctx.features, subgroups: false } };
    await expect(attentionDecode(noSubgroups, { ...args, variant: "cooperative", subgroups: true })).rejects.toThrow(
      /subgroups/,
    );
    cache.destroy();
  });
});

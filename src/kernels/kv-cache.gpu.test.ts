// kv-cache-write against the float64 reference: written rows exact, every other cache word and the guards untouched.
import { describe, test, expect } from "vitest";
import { createKvCache, kvCacheBufferBytes, kvCacheWrite, type KvCacheShape } from "./kv-cache.ts";
import { runDispatches } from "./dispatch.ts";
import { readBuffer, uploadBuffer } from "../gpu/readback.ts";
import { kvCacheWrite as kvCacheWriteRef } from "../reference/attention.ts";
import { freshSeed, guardedOutput, POISON, randomF32, rng, testContext, GUARD_WORDS } from "./testing.ts";

type Case = [nKvHeads: number, headSize: number, capacity: number, nTokens: number, startPos: number];

const cases: Case[] = [
  [1, 4, 1, 1, 0],
  [2, 8, 40, 7, 33],
  [3, 36, 50, 1, 49],
  [8, 64, 1031, 33, 998],
  [4, 40, 300, 257, 10],
];

/** The cache words as the reference expects them: poison everywhere, the new rows where they were written. */
function expected(
  shape: KvCacheShape,
  writes: { k: Float32Array; v: Float32Array; nTokens: number; startPos: number }[],
) {
  const words = kvCacheBufferBytes(shape) / 4;
  const k = new Float32Array(new Uint32Array(words).fill(POISON).buffer);
  const v = new Float32Array(new Uint32Array(words).fill(POISON).buffer);
  for (const w of writes) kvCacheWriteRef(k, v, w.k, w.v, shape, w.nTokens, w.startPos);
  return { k: new Uint32Array(k.buffer), v: new Uint32Array(v.buffer) };
}

async function readWhole(buffer: GPUBuffer): Promise<Uint32Array> {
  return new Uint32Array(await readBuffer((await testContext()).device, buffer));
}

function expectWords(name: string, seed: number, got: Uint32Array, want: Uint32Array): void {
  // got holds the guards around the cache; they must still be poison.
  const body = got.subarray(GUARD_WORDS, GUARD_WORDS + want.length);
  for (let i = 0; i < GUARD_WORDS; i++) {
    if (got[i] !== POISON || got[GUARD_WORDS + want.length + i] !== POISON) {
      throw new Error(`${name} (seed ${seed}): guard word ${i} overwritten`);
    }
  }
  const bad = body.findIndex((w, i) => w !== want[i]);
  if (bad >= 0) throw new Error(`${name} (seed ${seed}): word ${bad} is ${body[bad]}, want ${want[bad]}`);
}

describe("kv-cache-write", () => {
  for (const [nKvHeads, headSize, capacity, nTokens, startPos] of cases) {
    const name = `kv-cache-write(nKvHeads=${nKvHeads}, headSize=${headSize}, capacity=${capacity}, nTokens=${nTokens}, startPos=${startPos})`;
    test(name, async () => {
      const ctx = await testContext();
      const seed = freshSeed();
      const random = rng(seed);
      const shape = { nKvHeads, capacity, headSize };
      const kvDim = nKvHeads * headSize;
      const k = randomF32(nTokens * kvDim, random, 2);
      const v = randomF32(nTokens * kvDim, random, 2);
      const words = kvCacheBufferBytes(shape) / 4;
      const cacheK = guardedOutput(ctx, words, "cache.k");
      const cacheV = guardedOutput(ctx, words, "cache.v");
      const kernel = await kvCacheWrite(ctx, {
        k: uploadBuffer(ctx.device, k),
        v: uploadBuffer(ctx.device, v),
        cache: { k: cacheK.binding, v: cacheV.binding },
        shape,
        nTokens,
        startPos,
      });
      await runDispatches(ctx, kernel.dispatches);
      const want = expected(shape, [{ k, v, nTokens, startPos }]);
      expectWords(`${name} K`, seed, await readWhole(cacheK.buffer), want.k);
      expectWords(`${name} V`, seed, await readWhole(cacheV.buffer), want.v);
    });
  }

  test("kv-cache-write update({ start_pos }) moves the write, one decode step at a time", async () => {
    const ctx = await testContext();
    const seed = freshSeed();
    const random = rng(seed);
    const shape = { nKvHeads: 2, capacity: 9, headSize: 8 };
    const cacheK = guardedOutput(ctx, kvCacheBufferBytes(shape) / 4, "cache.k");
    const cacheV = guardedOutput(ctx, kvCacheBufferBytes(shape) / 4, "cache.v");
    const kBuf = uploadBuffer(ctx.device, new Float32Array(16));
    const vBuf = uploadBuffer(ctx.device, new Float32Array(16));
    const cache = { k: cacheK.binding, v: cacheV.binding };
    const kernel = await kvCacheWrite(ctx, { k: kBuf, v: vBuf, cache, shape, nTokens: 1, startPos: 0 });
    const writes = [];
    for (const pos of [0, 1, 8]) {
      const k = randomF32(16, random);
      const v = randomF32(16, random);
      ctx.device.queue.writeBuffer(kBuf, 0, new Float32Array(k));
      ctx.device.queue.writeBuffer(vBuf, 0, new Float32Array(v));
      kernel.update({ start_pos: pos });
      await runDispatches(ctx, kernel.dispatches);
      writes.push({ k, v, nTokens: 1, startPos: pos });
    }
    const want = expected(shape, writes);
    expectWords("kv-cache-write steps K", seed, await readWhole(cacheK.buffer), want.k);
    expectWords("kv-cache-write steps V", seed, await readWhole(cacheV.buffer), want.v);
    expect(() => kernel.update({ start_pos: 9 })).toThrow(/positions 9\.\.9.*capacity=9/);
  });

  test("kv-cache-write rejects writes past the capacity and short inputs", async () => {
    const ctx = await testContext();
    const shape = { nKvHeads: 2, capacity: 10, headSize: 8 };
    const cache = createKvCache(ctx, 1, shape);
    const b = uploadBuffer(ctx.device, new Float32Array(4 * 16));
    const args = { k: b, v: b, cache: cache.layers[0], shape };
    await expect(kvCacheWrite(ctx, { ...args, nTokens: 4, startPos: 7 })).rejects.toThrow(
      /positions 7\.\.10 \(startPos=7, nTokens=4\).*capacity=10/,
    );
    await expect(kvCacheWrite(ctx, { ...args, nTokens: 0, startPos: 0 })).rejects.toThrow(/nTokens=0/);
    await expect(kvCacheWrite(ctx, { ...args, nTokens: 5, startPos: 0 })).rejects.toThrow(
      /k \(nTokens=5, kvDim=16\) needs \d+ bytes, the binding holds 256/,
    );
    expect(() => createKvCache(ctx, 1, { nKvHeads: 2, capacity: 10, headSize: 300 })).toThrow(/headSize=300/);
    const small = { ...ctx, bindingLimit: 512 };
    expect(() => createKvCache(small, 1, shape)).toThrow(/640 bytes/);
    cache.destroy();
  });
});

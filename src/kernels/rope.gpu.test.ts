// rope against the float64 reference: both layouts, partial rotary, frequency factors, far positions.
import { describe, test, expect } from "vitest";
import { rope, ropeFrequencyTable, ropeKernel, type RopeLayout } from "./rope.ts";
import { runDispatches } from "./dispatch.ts";
import { uploadBuffer } from "../gpu/readback.ts";
import { wgslParamFields } from "../gpu/uniforms.ts";
import { rope as ropeRef } from "../reference/ops.ts";
import {
  GUARD_WORDS,
  expectClose,
  freshSeed,
  guardedOutput,
  randomF32,
  readGuardedF32,
  rng,
  testContext,
} from "./testing.ts";

// The angle is exact modulo one turn to ~5e-8 rad at every position and sin/cos are polynomials good to f32
// rounding, so the error is a few f32 roundings of the row's scale. An f32 angle would be ~1e-2 off at
// pos 1e5, and builtin sin/cos alone (SwiftShader) ~2e-4.
const TOLERANCE = 1e-6;

interface Case {
  nTokens: number;
  nHeads: number;
  headSize: number;
  nRot: number;
  base: number;
  startPos: number;
  layout: RopeLayout;
  factors?: boolean;
}

const cases: Case[] = [
  { nTokens: 1, nHeads: 1, headSize: 2, nRot: 2, base: 10000, startPos: 0, layout: "adjacent" },
  { nTokens: 1, nHeads: 3, headSize: 64, nRot: 64, base: 10000, startPos: 5, layout: "halves" },
  { nTokens: 7, nHeads: 4, headSize: 64, nRot: 64, base: 10000, startPos: 0, layout: "adjacent" },
  { nTokens: 7, nHeads: 4, headSize: 64, nRot: 64, base: 1000000, startPos: 37, layout: "halves" },
  { nTokens: 33, nHeads: 5, headSize: 48, nRot: 32, base: 10000, startPos: 3, layout: "adjacent" },
  { nTokens: 33, nHeads: 5, headSize: 48, nRot: 32, base: 10000, startPos: 3, layout: "halves" },
  {
    nTokens: 3,
    nHeads: 8,
    headSize: 128,
    nRot: 128,
    base: 500000,
    startPos: 100000,
    layout: "adjacent",
    factors: true,
  },
  { nTokens: 3, nHeads: 8, headSize: 128, nRot: 128, base: 1000000, startPos: 131069, layout: "halves" },
  { nTokens: 65, nHeads: 2, headSize: 80, nRot: 20, base: 10000, startPos: 100000, layout: "halves", factors: true },
];

function name(c: Case): string {
  return `rope(nTokens=${c.nTokens}, nHeads=${c.nHeads}, headSize=${c.headSize}, nRot=${c.nRot}, base=${c.base}, startPos=${c.startPos}, ${c.layout}${c.factors ? ", factors" : ""})`;
}

/** Llama 3.1-style factors: 1 for high frequencies, up to 8 for low ones, smooth in between. */
function llama31Factors(half: number): Float32Array {
  return Float32Array.from({ length: half }, (_, i) => 1 + 7 * Math.min(1, Math.max(0, (i - half / 4) / (half / 2))));
}

describe("rope", () => {
  test("field list equals the WGSL struct", () => {
    expect(wgslParamFields(ropeKernel.source)).toEqual(ropeKernel.params.fields);
  });

  test("frequency table holds the frequency as a 64-bit fraction of a turn", () => {
    const table = ropeFrequencyTable(8, 10000);
    for (let i = 0; i < 4; i++) {
      const turns = Math.pow(10000, -i / 4) / (2 * Math.PI);
      expect(Math.abs((table[2 * i] + table[2 * i + 1] / 2 ** 32) / 2 ** 32 - turns)).toBeLessThan(1e-16);
    }
  });

  for (const c of cases) {
    test(name(c), async () => {
      const ctx = await testContext();
      const seed = freshSeed();
      const n = c.nTokens * c.nHeads * c.headSize;
      const x = randomF32(n, rng(seed), 3);
      const factors = c.factors ? llama31Factors(c.nRot / 2) : undefined;
      const out = guardedOutput(ctx, n);
      ctx.device.queue.writeBuffer(out.buffer, GUARD_WORDS * 4, new Float32Array(x));
      const k = await rope(ctx, { ...c, x: out.binding, freqFactors: factors });
      await runDispatches(ctx, k.dispatches);
      const want = ropeRef(
        Float64Array.from(x),
        c.nTokens,
        c.nHeads,
        c.headSize,
        c.nRot,
        c.base,
        c.startPos,
        c.layout,
        factors,
      );
      expectClose(name(c), seed, await readGuardedF32(ctx, out), want, TOLERANCE);
    });
  }

  test("rope update moves the position without re-preparing", async () => {
    const ctx = await testContext();
    const seed = freshSeed();
    const c: Case = { nTokens: 1, nHeads: 4, headSize: 64, nRot: 64, base: 10000, startPos: 0, layout: "adjacent" };
    const x = randomF32(256, rng(seed));
    const buffer = uploadBuffer(ctx.device, x);
    const k = await rope(ctx, { ...c, x: buffer });
    const want = Float64Array.from(x);
    for (const pos of [1, 2, 3, 90000]) {
      k.update({ start_pos: pos });
      await runDispatches(ctx, k.dispatches);
      ropeRef(want, 1, 4, 64, 64, 10000, pos, "adjacent");
    }
    const out = guardedOutput(ctx, 256);
    const encoder = ctx.device.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, 0, out.buffer, GUARD_WORDS * 4, 1024);
    ctx.device.queue.submit([encoder.finish()]);
    expectClose("rope after 4 updates", seed, await readGuardedF32(ctx, out), want, TOLERANCE);
  });

  test("rope(nTokens=20, nHeads=7, headSize=32) on a grid folded into 2-D", async () => {
    const ctx = await testContext();
    const seed = freshSeed();
    const c: Case = { nTokens: 20, nHeads: 7, headSize: 32, nRot: 32, base: 10000, startPos: 11, layout: "halves" };
    const n = 20 * 7 * 32;
    const x = randomF32(n, rng(seed));
    const out = guardedOutput(ctx, n);
    ctx.device.queue.writeBuffer(out.buffer, GUARD_WORDS * 4, new Float32Array(x));
    const folded = { ...ctx, limits: { maxComputeWorkgroupsPerDimension: 3 } as GPUSupportedLimits };
    const k = await rope(folded, { ...c, x: out.binding });
    expect(k.dispatches[0].workgroups).toEqual([3, 3, 1]);
    await runDispatches(ctx, k.dispatches);
    const want = ropeRef(Float64Array.from(x), 20, 7, 32, 32, 10000, 11, "halves");
    expectClose("rope folded", seed, await readGuardedF32(ctx, out), want, TOLERANCE);
  });

  test("rope rejects bad arguments, naming them", async () => {
    const ctx = await testContext();
    const x = uploadBuffer(ctx.device, new Float32Array(256));
    const ok = {
      x,
      nTokens: 1,
      nHeads: 4,
      headSize: 64,
      nRot: 64,
      base: 10000,
      startPos: 0,
      layout: "adjacent" as const,
    };
    expect(() => rope(ctx, { ...ok, nRot: 63 })).toThrow(/nRot=63 must be even/);
    expect(() => rope(ctx, { ...ok, nRot: 66 })).toThrow(/nRot=66 .* <= headSize=64/);
    expect(() => rope(ctx, { ...ok, nRot: 0 })).toThrow(/nRot=0/);
    expect(() => rope(ctx, { ...ok, nHeads: 0 })).toThrow(/nHeads=0/);
    expect(() => rope(ctx, { ...ok, nTokens: 2 })).toThrow(/x holds 1024 bytes, needs 512 x 4/);
    expect(() => rope(ctx, { ...ok, startPos: -1 })).toThrow(/startPos=-1/);
    expect(() => rope(ctx, { ...ok, base: 0 })).toThrow(/base=0/);
    expect(() => rope(ctx, { ...ok, freqFactors: [1, 2] })).toThrow(/freqFactors has 2 entries, needs nRot\/2 = 32/);
    expect(() => rope(ctx, { ...ok, freqFactors: new Float32Array(32) })).toThrow(/freqFactors\[0\]=0/);
    expect(() => rope(ctx, { ...ok, layout: "interleaved" as RopeLayout })).toThrow(/layout=interleaved/);
  });
});

// bias-add against the float64 reference: rows of 1 (decode) and more (prefill), widths off every tile, a grid
// folded into 2-D, and shape checks that name the shapes.
import { describe, test, expect } from "vitest";
import { biasAdd, biasAddKernel } from "./bias-add.ts";
import { runDispatches } from "./dispatch.ts";
import { uploadBuffer } from "../gpu/readback.ts";
import { wgslParamFields } from "../gpu/uniforms.ts";
import { biasAdd as biasAddRef } from "../reference/ops.ts";
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

// One correctly rounded f32 addition per element.
const TOLERANCE = 1e-7;

async function check(rows: number, n: number, folded = false) {
  const ctx = await testContext();
  const seed = freshSeed();
  const random = rng(seed);
  const x = randomF32(rows * n, random, 4);
  // Biases kept away from 0 so that an element the kernel skipped cannot pass for one it added to.
  const bias = randomF32(n, random, 1).map((b) => b + Math.sign(b || 1) * 0.5);
  const out = guardedOutput(ctx, rows * n);
  ctx.device.queue.writeBuffer(out.buffer, GUARD_WORDS * 4, new Float32Array(x));
  const run = folded ? { ...ctx, limits: { maxComputeWorkgroupsPerDimension: 5 } as GPUSupportedLimits } : ctx;
  const k = await biasAdd(run, { x: out.binding, bias: uploadBuffer(ctx.device, bias), rows, n });
  if (folded) expect(k.dispatches[0].workgroups[1]).toBeGreaterThan(1);
  await runDispatches(ctx, k.dispatches);
  const want = biasAddRef(Float64Array.from(x), bias, rows, n);
  expectClose(`bias-add(rows=${rows}, n=${n})`, seed, await readGuardedF32(ctx, out), want, TOLERANCE);
}

describe("bias-add", () => {
  test("field list equals the WGSL struct", () => {
    expect(wgslParamFields(biasAddKernel.source)).toEqual(biasAddKernel.params.fields);
  });

  for (const [rows, n] of [
    [1, 1],
    [1, 896],
    [3, 1],
    [7, 257],
    [65, 33],
    [33, 4160],
  ] as const) {
    test(`bias-add(rows=${rows}, n=${n})`, () => check(rows, n));
  }

  test("bias-add(rows=9, n=257) on a grid folded into 2-D", () => check(9, 257, true));

  test("bias-add rejects bad shapes and aliasing", async () => {
    const ctx = await testContext();
    const x = uploadBuffer(ctx.device, new Float32Array(64));
    const bias = uploadBuffer(ctx.device, new Float32Array(16));
    expect(() => biasAdd(ctx, { x, bias, rows: 0, n: 16 })).toThrow(/rows=0/);
    expect(() => biasAdd(ctx, { x, bias, rows: 4, n: 0 })).toThrow(/n=0/);
    expect(() => biasAdd(ctx, { x, bias, rows: 5, n: 16 })).toThrow(/x \(rows=5, n=16\) holds 256 bytes, needs 80/);
    expect(() => biasAdd(ctx, { x, bias, rows: 2, n: 32 })).toThrow(/bias \(n=32\) holds 64 bytes, needs 32/);
    expect(() =>
      biasAdd(ctx, {
        x: { buffer: x, offset: 0, size: 128 },
        bias: { buffer: x, offset: 64, size: 64 },
        rows: 2,
        n: 16,
      }),
    ).toThrow(/bias overlaps x/);
  });
});

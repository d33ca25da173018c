// swiglu against the float64 reference, including gates large enough to overflow a naive exp(-g).
import { describe, test, expect } from "vitest";
import { swiglu, swigluKernel } from "./swiglu.ts";
import { runDispatches } from "./dispatch.ts";
import { uploadBuffer } from "../gpu/readback.ts";
import { wgslParamFields } from "../gpu/uniforms.ts";
import { swiglu as swigluRef } from "../reference/ops.ts";
import { expectClose, freshSeed, guardedOutput, randomF32, readGuardedF32, rng, testContext } from "./testing.ts";

// f32 exp and division carry a few ulps each: a few times 1e-7 relative per element.
const TOLERANCE = 2e-6;

async function check(n: number, gateScale: number, folded = false) {
  const ctx = await testContext();
  const seed = freshSeed();
  const random = rng(seed);
  const gate = randomF32(n, random, gateScale);
  const up = randomF32(n, random, 2);
  const out = guardedOutput(ctx, n);
  const run = folded ? { ...ctx, limits: { maxComputeWorkgroupsPerDimension: 5 } as GPUSupportedLimits } : ctx;
  const k = await swiglu(run, {
    gate: uploadBuffer(ctx.device, gate),
    up: uploadBuffer(ctx.device, up),
    out: out.binding,
    n,
  });
  await runDispatches(ctx, k.dispatches);
  const want = swigluRef(new Float64Array(n), gate, up, n);
  expectClose(`swiglu(n=${n}, gate scale ${gateScale})`, seed, await readGuardedF32(ctx, out), want, TOLERANCE);
}

describe("swiglu", () => {
  test("field list equals the WGSL struct", () => {
    expect(wgslParamFields(swigluKernel.source)).toEqual(swigluKernel.params.fields);
  });

  for (const n of [1, 3, 257, 4161, 70000]) {
    test(`swiglu(n=${n})`, () => check(n, 6));
  }

  test("swiglu(n=4161) with |gate| up to 1e4 stays finite", () => check(4161, 1e4));

  test("swiglu(n=4161) on a grid folded into 2-D", () => check(4161, 6, true));

  test("swiglu rejects bad shapes and aliasing", async () => {
    const ctx = await testContext();
    const b = uploadBuffer(ctx.device, new Float32Array(64));
    const c = uploadBuffer(ctx.device, new Float32Array(64));
    expect(() => swiglu(ctx, { gate: b, up: c, out: b, n: -1 })).toThrow(/n=-1/);
    expect(() => swiglu(ctx, { gate: b, up: c, out: b, n: 64 })).toThrow(/out overlaps/);
    expect(() => swiglu(ctx, { gate: b, up: c, out: b, n: 65 })).toThrow(/gate holds 256 bytes, needs 65/);
  });
});

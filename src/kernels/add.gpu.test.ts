// add and add-in-place against the float64 reference, including a grid folded into 2-D.
import { describe, test, expect } from "vitest";
import { add, addInPlaceKernel, addKernel } from "./add.ts";
import { runDispatches } from "./dispatch.ts";
import { uploadBuffer } from "../gpu/readback.ts";
import { wgslParamFields } from "../gpu/uniforms.ts";
import { add as addRef } from "../reference/ops.ts";
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

// Sums of two f32 values are correctly rounded: the only error is that one rounding.
const TOLERANCE = 1e-7;

describe("add", () => {
  test("field lists equal the WGSL structs", () => {
    for (const k of [addKernel, addInPlaceKernel]) expect(wgslParamFields(k.source)).toEqual(k.params.fields);
  });

  for (const n of [1, 3, 257, 4161, 70000]) {
    for (const inPlace of [false, true]) {
      test(`add(n=${n}${inPlace ? ", in place" : ""})`, async () => {
        const ctx = await testContext();
        const seed = freshSeed();
        const random = rng(seed);
        const a = randomF32(n, random, 4);
        const b = randomF32(n, random, 4);
        const out = guardedOutput(ctx, n);
        if (inPlace) ctx.device.queue.writeBuffer(out.buffer, GUARD_WORDS * 4, new Float32Array(a));
        const k = await add(ctx, {
          a: inPlace ? out.binding : uploadBuffer(ctx.device, a),
          b: uploadBuffer(ctx.device, b),
          out: out.binding,
          n,
        });
        await runDispatches(ctx, k.dispatches);
        const want = addRef(new Float64Array(n), a, b, n);
        expectClose(`add(n=${n})`, seed, await readGuardedF32(ctx, out), want, TOLERANCE);
      });
    }
  }

  test("add(n=4161) on a grid folded into 2-D", async () => {
    const ctx = await testContext();
    const folded = { ...ctx, limits: { maxComputeWorkgroupsPerDimension: 5 } as GPUSupportedLimits };
    const seed = freshSeed();
    const random = rng(seed);
    const n = 4161;
    const a = randomF32(n, random);
    const b = randomF32(n, random);
    const out = guardedOutput(ctx, n);
    const k = await add(folded, {
      a: uploadBuffer(ctx.device, a),
      b: uploadBuffer(ctx.device, b),
      out: out.binding,
      n,
    });
    expect(k.dispatches[0].workgroups).toEqual([5, 4, 1]);
    await runDispatches(ctx, k.dispatches);
    expectClose("add folded", seed, await readGuardedF32(ctx, out), addRef(new Float64Array(n), a, b, n), TOLERANCE);
  });

  test("add rejects bad shapes and aliasing", async () => {
    const ctx = await testContext();
    const small = uploadBuffer(ctx.device, new Float32Array(8));
    const big = uploadBuffer(ctx.device, new Float32Array(1024));
    expect(() => add(ctx, { a: big, b: big, out: small, n: 0 })).toThrow(/n=0/);
    expect(() => add(ctx, { a: big, b: small, out: big, n: 100 })).toThrow(/b holds 32 bytes, needs 100/);
    const other = uploadBuffer(ctx.device, new Float32Array(1024));
    expect(() => add(ctx, { a: big, b: other, out: other, n: 100 })).toThrow(/out overlaps/);
    expect(() =>
      add(ctx, {
        a: { buffer: big, offset: 0, size: 512 },
        b: other,
        out: { buffer: big, offset: 256, size: 512 },
        n: 100,
      }),
    ).toThrow(/out overlaps/);
  });
});

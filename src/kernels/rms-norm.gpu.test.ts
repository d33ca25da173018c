// rms-norm against the float64 reference on awkward shapes.
import { describe, test, expect } from "vitest";
import { rmsNorm } from "./rms-norm.ts";
import { runDispatches } from "./dispatch.ts";
import { uploadBuffer } from "../gpu/readback.ts";
import { rmsNorm as rmsNormRef } from "../reference/ops.ts";
import { expectClose, freshSeed, guardedOutput, randomF32, readGuardedF32, rng, testContext } from "./testing.ts";

const shapes: [rows: number, dim: number][] = [
  [1, 1],
  [1, 64],
  [3, 257],
  [7, 4160],
  [65, 33],
];

describe("rms-norm", () => {
  for (const [rows, dim] of shapes) {
    test(`rms-norm(rows=${rows}, dim=${dim})`, async () => {
      const ctx = await testContext();
      const seed = freshSeed();
      const random = rng(seed);
      const x = randomF32(rows * dim, random, 3);
      const w = randomF32(dim, random, 1);
      const eps = 1e-5;
      const out = guardedOutput(ctx, rows * dim);
      const k = await rmsNorm(ctx, {
        x: uploadBuffer(ctx.device, x),
        weight: uploadBuffer(ctx.device, w),
        out: out.binding,
        rows,
        dim,
        eps,
      });
      await runDispatches(ctx, k.dispatches);
      const got = await readGuardedF32(ctx, out);
      const want = rmsNormRef(new Float64Array(rows * dim), x, w, rows, dim, eps);
      expectClose(`rms-norm(rows=${rows}, dim=${dim})`, seed, got, want, 1e-5);
    });
  }

  test("rms-norm rejects a zero dimension", async () => {
    const ctx = await testContext();
    const b = uploadBuffer(ctx.device, new Float32Array(4));
    expect(() => rmsNorm(ctx, { x: b, weight: b, out: b, rows: 1, dim: 0, eps: 1e-5 })).toThrow(/dim=0/);
  });
});

// argmax against the reference: awkward lengths up to a Llama 3 vocabulary, several rows, ties, -0 and -inf.
import { describe, test, expect } from "vitest";
import { argmax, argmaxKernel } from "./argmax.ts";
import { runDispatches } from "./dispatch.ts";
import { uploadBuffer } from "../gpu/readback.ts";
import { wgslParamFields } from "../gpu/uniforms.ts";
import { argmax as argmaxRef } from "../reference/ops.ts";
import { freshSeed, guardedOutput, randomF32, readGuarded, rng, testContext } from "./testing.ts";

/** Runs the kernel on (rows, n) logits and checks every row's index against the reference, exactly. */
async function check(
  label: string,
  seed: number,
  logits: Float32Array,
  rows: number,
  n: number,
  workgroupSize?: number,
) {
  const ctx = await testContext();
  const out = guardedOutput(ctx, rows);
  const k = await argmax(ctx, { logits: uploadBuffer(ctx.device, logits), out: out.binding, n, rows, workgroupSize });
  await runDispatches(ctx, k.dispatches);
  const got = Array.from(await readGuarded(ctx, out));
  const want = Array.from({ length: rows }, (_, r) => argmaxRef(logits, r * n, n));
  expect(got, `${label} (seed ${seed})`).toEqual(want);
}

describe("argmax", () => {
  test("field list equals the WGSL struct", () => {
    expect(wgslParamFields(argmaxKernel.source)).toEqual(argmaxKernel.params.fields);
  });

  // Workgroup size 4 is the CPU-adapter default, 256 the GPU one.
  for (const [rows, n, wg] of [
    [1, 1, 4],
    [1, 3, 4],
    [1, 257, 4],
    [1, 4161, 4],
    [1, 128257, 4],
    [5, 257, 4],
    [3, 4161, 4],
    [1, 1, 256],
    [1, 3, 256],
    [1, 128257, 256],
    [5, 257, 256],
    [3, 4161, 256],
  ]) {
    test(`argmax(rows=${rows}, n=${n}, wg=${wg})`, async () => {
      const seed = freshSeed();
      await check(`argmax(rows=${rows}, n=${n}, wg=${wg})`, seed, randomF32(rows * n, rng(seed), 20), rows, n, wg);
    });
  }

  test("argmax(rows=4, n=4161) with ties takes the lowest index", async () => {
    const seed = freshSeed();
    const random = rng(seed);
    // Eight levels only: the maximum repeats hundreds of times per row, across threads and strides.
    const logits = Float32Array.from({ length: 4 * 4161 }, () => Math.floor(random() * 8) - 4);
    await check("argmax ties, wg=4", seed, logits, 4, 4161, 4);
    await check("argmax ties, wg=256", seed, logits, 4, 4161, 256);
  });

  test("argmax of signed zeros, -inf and a single late maximum", async () => {
    const late = new Float32Array(4161).fill(-Infinity);
    late[4160] = -1e30;
    await check("-0 before +0", 0, Float32Array.of(-0, 0, -0), 1, 3);
    await check("all -inf", 0, new Float32Array(257).fill(-Infinity), 1, 257);
    await check("late maximum", 0, late, 1, 4161);
  });

  test("argmax rejects bad shapes", async () => {
    const ctx = await testContext();
    const b = uploadBuffer(ctx.device, new Float32Array(64));
    const o = uploadBuffer(ctx.device, new Uint32Array(4));
    expect(() => argmax(ctx, { logits: b, out: o, n: 0 })).toThrow(/n=0/);
    expect(() => argmax(ctx, { logits: b, out: o, n: 32, rows: 0 })).toThrow(/rows=0/);
    expect(() => argmax(ctx, { logits: b, out: o, n: 65 })).toThrow(/logits holds 256 bytes, needs 65/);
    expect(() => argmax(ctx, { logits: b, out: o, n: 8, rows: 5 })).toThrow(/out holds 16 bytes, needs 5/);
    expect(() => argmax(ctx, { logits: b, out: b, n: 8 })).toThrow(/out overlaps logits/);
    expect(() => argmax(ctx, { logits: b, out: o, n: 8, workgroupSize: 48 })).toThrow(/workgroupSize=48/);
  });
});

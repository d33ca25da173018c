// The K-quant quantizers against the float64 dequantizers (which are checked on hand-built blocks in
// k-quants.test.ts): quantize then dequantize stays within each format's step, and special values come back exact.
import { describe, expect, test } from "vitest";
import { dequantize, quantize } from "./ggml-quants.ts";
import type { KQuantType } from "./k-quants.ts";
import { freshSeed, rng } from "../kernels/testing.ts";

/** Largest error as a share of the block's largest magnitude: half a step of 15, 31 and 63 levels, plus slack for
 *  the 6- and 8-bit scales. */
const BOUND: Record<KQuantType, number> = { q4_k: 0.1, q5_k: 0.05, q6_k: 0.04 };

function gaussian(random: () => number, n: number, scale: number): Float32Array {
  return Float32Array.from({ length: n }, () => {
    const u = Math.max(random(), 1e-12);
    return scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  });
}

describe("K-quant quantizers", () => {
  for (const type of ["q4_k", "q5_k", "q6_k"] as const) {
    test(`${type}: round trip within the step, every block`, () => {
      const seed = freshSeed();
      const random = rng(seed);
      // Blocks of very different magnitudes, one all-positive and one all-negative.
      const x = new Float32Array(256 * 6);
      x.set(gaussian(random, 256 * 4, 0.02), 0);
      for (let i = 0; i < 256; i++) x[256 * 4 + i] = 0.5 + random();
      for (let i = 0; i < 256; i++) x[256 * 5 + i] = -3 - random();
      const back = dequantize(type, quantize(type, x), x.length);
      for (let b = 0; b < 6; b++) {
        const block = x.subarray(b * 256, (b + 1) * 256);
        const amax = Math.max(...Array.from(block, Math.abs));
        let worst = 0;
        for (let i = 0; i < 256; i++) worst = Math.max(worst, Math.abs(back[b * 256 + i] - block[i]));
        expect(worst / amax, `${type} block ${b} (seed ${seed})`).toBeLessThan(BOUND[type]);
      }
    });

    test(`${type}: zeros stay exact zeros, and a zero block is all zeros`, () => {
      const x = new Float32Array(512);
      for (let i = 256; i < 512; i++) x[i] = i % 4 === 0 ? 0 : Math.sin(i);
      const back = dequantize(type, quantize(type, x), x.length);
      for (let i = 0; i < 256; i++) expect(back[i]).toBe(0);
      if (type === "q6_k") for (let i = 256; i < 512; i += 4) expect(back[i]).toBe(0);
    });
  }

  test("a length that is not whole super-blocks is refused", () => {
    expect(() => quantize("q4_k", new Float32Array(300))).toThrow(/300 values are not a whole number of 256/);
  });
});

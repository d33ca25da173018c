// Philox2x32-10 against the Random123 known-answer vectors and a BigInt product.
import { describe, expect, test } from "vitest";
import { drawUniform, mulHiLo, philox2x32 } from "./philox.ts";

describe("philox2x32-10", () => {
  test("matches the Random123 known answers", () => {
    expect(philox2x32(0, 0, 0)).toEqual([0xff1dae59, 0x6cd10df2]);
    expect(philox2x32(0xffffffff, 0xffffffff, 0xffffffff)).toEqual([0x2c3f628b, 0xab4fd7ad]);
    expect(philox2x32(0x243f6a88, 0x85a308d3, 0x13198a2e)).toEqual([0xdd7ce038, 0xf62a4c12]);
  });

  test("mulHiLo equals the exact 64-bit product", () => {
    const values = [0, 1, 0xffff, 0x10000, 0xffffffff, 0xd256d193, 0x80000000, 0x12345678, 0xdeadbeef];
    for (const a of values) {
      for (const b of values) {
        const p = BigInt(a) * BigInt(b);
        expect(mulHiLo(a, b)).toEqual([Number(p >> 32n), Number(p & 0xffffffffn)]);
      }
    }
  });

  test("uniforms lie in [0, 1) and look uniform", () => {
    const bins = new Array<number>(10).fill(0);
    for (let step = 0; step < 10000; step++) {
      const u = drawUniform(1234, step);
      expect(u >= 0 && u < 1).toBe(true);
      bins[Math.floor(u * 10)]++;
    }
    for (const b of bins) expect(Math.abs(b - 1000)).toBeLessThan(150);
    expect(drawUniform(1, 2, 0)).not.toBe(drawUniform(1, 2, 1));
    expect(drawUniform(1, 2)).toBe(drawUniform(1, 2));
  });
});

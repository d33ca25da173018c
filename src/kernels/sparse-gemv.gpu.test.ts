// sparseGemv on the 1:4 and 2:4 patterns (the suite: sparse-suites.ts), and its refusals of bad input.
import { describe, expect, test } from "vitest";
import { sparseGemv } from "./sparse-gemv.ts";
import type { MatmulVariant } from "./gemv.ts";
import { uploadBuffer } from "../gpu/readback.ts";
import type { SparseValueType } from "../loaders/sparse-nm.ts";
import { rng, testContext } from "./testing.ts";
import { randomSparseWeight } from "./sparse-fixtures.ts";
import { sparseMatmulSuite } from "./sparse-suites.ts";

describe("sparse gemv", () => {
  sparseMatmulSuite("gemv", ["1:4", "2:4"], ["f32", "q4_0", "f16"]);

  test("sparse gemv rejects bad buffers, patterns, types and variants, naming them", async () => {
    const ctx = await testContext();
    const w = randomSparseWeight(ctx, { n: 2, m: 4 }, "q4_0", 8, 64, rng(1));
    const small = uploadBuffer(ctx.device, new Float32Array(8));
    const big = uploadBuffer(ctx.device, new Float32Array(64));
    expect(() => sparseGemv(ctx, { weight: w.gpu, x: small, out: big })).toThrow(
      /sparse-gemv-2:4-q4_0\(rows=8, cols=64\): x \(cols=64 f32\) needs 256 bytes, the binding holds 32/,
    );
    expect(() => sparseGemv(ctx, { weight: w.gpu, x: big, out: { buffer: big, offset: 0, size: 16 } })).toThrow(
      /out \(rows=8 f32\) needs 32 bytes, the binding holds 16/,
    );
    expect(() => sparseGemv(ctx, { weight: w.gpu, x: big, out: big, variant: "fast" as MatmulVariant })).toThrow(
      /unknown variant "fast"/,
    );
    expect(() => sparseGemv(ctx, { weight: { ...w.gpu, pattern: { n: 3, m: 4 } }, x: big, out: big })).toThrow(
      /3:4 q4_0 \(rows=8, cols=64\).*"3:4" is not supported/,
    );
    expect(() => sparseGemv(ctx, { weight: { ...w.gpu, type: "q4_k" as SparseValueType }, x: big, out: big })).toThrow(
      /no kernels for q4_k values/,
    );
    expect(() => sparseGemv(ctx, { weight: { ...w.gpu, cols: 66 }, x: big, out: big })).toThrow(
      /2:4 q4_0 \(rows=8, cols=66\): rows must be positive and cols a positive multiple of 4/,
    );
  });
});

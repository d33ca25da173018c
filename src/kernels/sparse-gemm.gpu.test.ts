// sparseGemm on the 2:4 pattern (the suite: sparse-suites.ts; the other patterns have a file each), and its refusals
// of bad input.
import { describe, expect, test } from "vitest";
import { sparseGemm } from "./sparse-gemm.ts";
import type { MatmulVariant } from "./gemv.ts";
import { uploadBuffer } from "../gpu/readback.ts";
import { rng, testContext } from "./testing.ts";
import { randomSparseWeight } from "./sparse-fixtures.ts";
import { sparseMatmulSuite } from "./sparse-suites.ts";

describe("sparse gemm", () => {
  sparseMatmulSuite("gemm", ["2:4"], ["q4_0", "f32"]);

  test("sparse gemm rejects bad m, buffers, patterns and variants, naming them", async () => {
    const ctx = await testContext();
    const w = randomSparseWeight(ctx, { n: 2, m: 8 }, "q8_0", 8, 64, rng(1));
    const x = uploadBuffer(ctx.device, new Float32Array(3 * 64));
    const out = uploadBuffer(ctx.device, new Float32Array(3 * 8));
    expect(() => sparseGemm(ctx, { weight: w.gpu, x, out, m: 0 })).toThrow(
      /sparse-gemm-2:8-q8_0\(m=0, rows=8, cols=64\): m must be/,
    );
    expect(() => sparseGemm(ctx, { weight: w.gpu, x, out, m: 4 })).toThrow(
      /x \(m=4 x cols=64 f32\) needs 1024 bytes, the binding holds 768/,
    );
    expect(() => sparseGemm(ctx, { weight: w.gpu, x, out: { buffer: out, size: 64 }, m: 3 })).toThrow(
      /out \(m=3 x rows=8 f32\) needs 96 bytes, the binding holds 64/,
    );
    expect(() => sparseGemm(ctx, { weight: w.gpu, x, out, m: 3, variant: "tiled" as MatmulVariant })).toThrow(
      /unknown variant "tiled"/,
    );
    expect(() => sparseGemm(ctx, { weight: { ...w.gpu, pattern: { n: 0, m: 4 } }, x, out, m: 3 })).toThrow(
      /0:4 q8_0 \(rows=8, cols=64\).*"0:4" is not supported/,
    );
  });
});

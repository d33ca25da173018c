// Kernel tuning: every candidate the tuner may pick is right (checked against the float64 reference, so a GPU user
// never runs an unchecked variant), measuring picks the fastest it timed and remembers it, and a forced or
// requested variant is honoured.
import { describe, expect, test } from "vitest";
import { gemv, GEMV_CANDIDATES } from "./gemv.ts";
import { gemm, GEMM_CANDIDATES } from "./gemm.ts";
import { runDispatches } from "./dispatch.ts";
import { uploadBuffer } from "../gpu/readback.ts";
import type { GpuContext } from "../gpu/device.ts";
import { matmul, matmulTermScale } from "../reference/matmul.ts";
import type { WeightType } from "../loaders/ggml-quants.ts";
import { ATTENTION_CANDIDATES, choiceName, parseChoiceName, type KernelChoice } from "./tuning.ts";
import { SPARSE_CANDIDATES } from "./sparse-matmul.ts";
import { expectClose, freshSeed, guardedOutput, randomF32, readGuardedF32, rng, testContext } from "./testing.ts";
import { randomWeight, withoutSubgroups, withTuner } from "./weight-fixtures.ts";

const TOLERANCE = 2e-5;
const TYPES: [WeightType, rows: number, cols: number][] = [
  ["f32", 129, 36],
  ["f16", 65, 40],
  ["q8_0", 257, 96],
  ["q4_0", 257, 96],
];

async function checkMatmul(
  ctx: GpuContext,
  type: WeightType,
  m: number,
  rows: number,
  cols: number,
  choice: Partial<KernelChoice>,
  name: string,
): Promise<void> {
  const seed = freshSeed();
  const random = rng(seed);
  const w = randomWeight(ctx, type, rows, cols, random);
  const x = randomF32(m * cols, random, 1);
  const out = guardedOutput(ctx, m * rows);
  const xb = uploadBuffer(ctx.device, x);
  const k =
    m === 1
      ? await gemv(ctx, { weight: w.gpu, x: xb, out: out.binding, ...choice })
      : await gemm(ctx, { weight: w.gpu, x: xb, out: out.binding, m, ...choice });
  await runDispatches(ctx, k.dispatches);
  const want = matmul(new Float64Array(m * rows), x, w.values, m, rows, cols);
  expectClose(name, seed, await readGuardedF32(ctx, out), want, TOLERANCE, matmulTermScale(x, w.values, m, rows, cols));
}

describe("every tuning candidate matches the reference", () => {
  for (const [type, rows, cols] of TYPES) {
    for (const c of GEMV_CANDIDATES) {
      const name = `gemv-${type}(rows=${rows}, cols=${cols}, ${choiceName(c)})`;
      test(name, async () => checkMatmul(await testContext(), type, 1, rows, cols, c, name));
      if (c.variant === "cooperative") {
        test(`${name}, no subgroups`, async () => {
          const ctx = await testContext();
          await withoutSubgroups(ctx, () => checkMatmul(ctx, type, 1, rows, cols, c, name));
        });
      }
    }
    for (const c of GEMM_CANDIDATES) {
      const name = `gemm-${type}(m=37, rows=${rows}, cols=${cols}, ${choiceName(c)})`;
      test(name, async () => checkMatmul(await testContext(), type, 37, rows, cols, c, name));
    }
  }
});

describe("tuner", () => {
  test("choice names read back as the choices they name; anything else is refused", () => {
    for (const c of [...GEMV_CANDIDATES, ...GEMM_CANDIDATES, ...SPARSE_CANDIDATES, ...ATTENTION_CANDIDATES]) {
      expect(parseChoiceName(choiceName(c))).toEqual(c);
    }
    for (const bad of ["", "rowwise/", "tiled/64", "rowwise/64+sparse", "cooperative+dense/64"]) {
      expect(() => parseChoiceName(bad), bad).toThrow(/is not a kernel choice/);
    }
  });

  test("measuring times every candidate, keeps the fastest, and the next prepare of that shape reuses it", async () => {
    const ctx = await testContext();
    await withTuner(
      ctx,
      (t) => (t.measuring = true),
      async () => {
        await checkMatmul(ctx, "q4_0", 1, 257, 96, {}, "tuned gemv-q4_0");
        expect(ctx.tuner.records).toHaveLength(1);
        const [record] = ctx.tuner.records;
        expect(record.key).toBe("gemv:q4_0:257x96");
        expect(record.candidates.map((c) => choiceName(c.choice))).toEqual(GEMV_CANDIDATES.map(choiceName));
        const timed = record.candidates.filter((c) => c.ms !== null) as { choice: KernelChoice; ms: number }[];
        expect(timed.length).toBeGreaterThanOrEqual(1);
        const fastest = timed.reduce((a, b) => (b.ms < a.ms ? b : a));
        expect(choiceName(record.chosen)).toBe(choiceName(fastest.choice));
        expect(ctx.tuner.choices.get(record.key)).toEqual(record.chosen);
        // Same shape again: no second measurement.
        await checkMatmul(ctx, "q4_0", 1, 257, 96, {}, "tuned gemv-q4_0 again");
        expect(ctx.tuner.records).toHaveLength(1);
        expect(ctx.tuner.used.get(record.key)).toEqual(record.chosen);
      },
    );
  });

  test("a later shape of an op keeps the variant its first shape chose when that is within noise", async () => {
    const ctx = await testContext();
    await withTuner(
      ctx,
      (t) => {
        t.measuring = true;
        t.noise = Infinity;
      },
      async () => {
        await checkMatmul(ctx, "q8_0", 1, 257, 96, {}, "first shape");
        await checkMatmul(ctx, "q8_0", 1, 65, 64, {}, "second shape");
        const [first, second] = ctx.tuner.records;
        expect(second.key).toBe("gemv:q8_0:65x64");
        expect(choiceName(second.chosen)).toBe(choiceName(first.chosen));
      },
    );
  });

  test("a stored choice is used without timing", async () => {
    const ctx = await testContext();
    const stored: KernelChoice = { variant: "cooperative", workgroupSize: 256 };
    await withTuner(
      ctx,
      (t) => {
        t.measuring = true;
        t.choices.set("gemm:q8_0:257x96", stored);
      },
      async () => {
        await checkMatmul(ctx, "q8_0", 5, 257, 96, {}, "stored gemm-q8_0");
        // Not a gemm candidate: the stored entry is ignored and the shape measured.
        expect(ctx.tuner.records.map((r) => r.key)).toEqual(["gemm:q8_0:257x96"]);
        ctx.tuner.choices.set("gemv:q8_0:257x96", stored);
        await checkMatmul(ctx, "q8_0", 1, 257, 96, {}, "stored gemv-q8_0");
        expect(ctx.tuner.records).toHaveLength(1);
        expect(ctx.tuner.used.get("gemv:q8_0:257x96")).toEqual(stored);
      },
    );
  });

  test("a forced style wins over stored choices; an explicit variant wins over both", async () => {
    const ctx = await testContext();
    await withTuner(
      ctx,
      (t) => {
        t.force = "cooperative";
        t.choices.set("gemv:f32:129x36", { variant: "rowwise", workgroupSize: 128 });
      },
      async () => {
        await checkMatmul(ctx, "f32", 1, 129, 36, {}, "forced gemv-f32");
        expect(ctx.tuner.used.get("gemv:f32:129x36")?.variant).toBe("cooperative");
        await checkMatmul(ctx, "f32", 1, 129, 36, { variant: "rowwise", workgroupSize: 128 }, "explicit gemv-f32");
        expect(ctx.tuner.used.get("gemv:f32:129x36")).toEqual({ variant: "rowwise", workgroupSize: 128 });
      },
    );
  });

  test("a workgroup size that is no candidate is refused with the candidates named", async () => {
    const ctx = await testContext();
    await expect(checkMatmul(ctx, "f32", 1, 4, 8, { variant: "rowwise", workgroupSize: 48 }, "bad")).rejects.toThrow(
      /gemv:f32:4x8: no variant "rowwise\/48" \(candidates: rowwise\/64, cooperative\/64, rowwise\/128, cooperative\/256\)/,
    );
  });

  test("without measuring or a stored choice, a CPU adapter gets rowwise and a GPU cooperative", async () => {
    const ctx = await testContext();
    await withTuner(
      ctx,
      () => undefined,
      async () => {
        await checkMatmul(ctx, "q8_0", 1, 257, 96, {}, "default gemv-q8_0");
        expect(ctx.tuner.used.get("gemv:q8_0:257x96")?.variant).toBe(ctx.isCpuAdapter ? "rowwise" : "cooperative");
        expect(ctx.tuner.records).toHaveLength(0);
      },
    );
  });
});

// The graph's matmul over a sparse weight: tuning times the sparse kernels against the dense ones on the weight
// expanded to dense planes, keeps the faster, and frees an expansion it does not keep; whichever runs matches the
// float64 reference.
import { describe, expect, test } from "vitest";
import type { GpuContext } from "../gpu/device.ts";
import { uploadBuffer } from "../gpu/readback.ts";
import { expandNM, parsePattern } from "../loaders/sparse-nm.ts";
import { matmul, matmulTermScale } from "../reference/matmul.ts";
import { runDispatches } from "./dispatch.ts";
import { randomSparseWeight, type SparseFixture } from "./sparse-fixtures.ts";
import { sparseMatmul } from "./sparse-matmul.ts";
import { releaseUnusedSparsePlanes } from "./sparse-weights.ts";
import { choiceName, type KernelChoice, type KernelTuner } from "./tuning.ts";
import { expectClose, freshSeed, guardedOutput, randomF32, readGuardedF32, rng, testContext } from "./testing.ts";
import { withTuner } from "./weight-fixtures.ts";
import { uploadWeight, type GpuWeight } from "./weights.ts";

const TOLERANCE = 2e-5;
const [ROWS, COLS] = [257, 96];

/** A random 2:4 q4_0 weight whose `expand` counts its calls and remembers what it made. */
function fixture(ctx: GpuContext, seed: number): SparseFixture & { expansions: GpuWeight[] } {
  const f = randomSparseWeight(ctx, parsePattern("2:4"), "q4_0", ROWS, COLS, rng(seed));
  const expansions: GpuWeight[] = [];
  f.gpu.expand = () => {
    expansions.push(uploadWeight(ctx, expandNM(f.sparse), "w.dense"));
    return expansions[expansions.length - 1];
  };
  return { ...f, expansions };
}

async function runAndCheck(ctx: GpuContext, f: SparseFixture, m: number, seed: number, name: string): Promise<void> {
  const x = randomF32(m * COLS, rng(seed + 1), 1);
  const out = guardedOutput(ctx, m * ROWS);
  const k = await sparseMatmul(ctx, { weight: f.gpu, x: uploadBuffer(ctx.device, x), out: out.binding, m });
  await runDispatches(ctx, k.dispatches);
  const want = matmul(new Float64Array(m * ROWS), x, f.values, m, ROWS, COLS);
  const scale = matmulTermScale(x, f.values, m, ROWS, COLS);
  expectClose(name, seed, await readGuardedF32(ctx, out), want, TOLERANCE, scale);
}

/** Tuning as a load on a CPU adapter runs it (barrier-free candidates only), with time to measure everything. */
const measureRowwise = (t: KernelTuner) => {
  t.measuring = true;
  t.styles = ["rowwise"];
  t.budgetMs = 60_000;
};

describe("sparse matmul: sparse or dense kernels, as tuning finds", () => {
  for (const m of [1, 19]) {
    test(`measuring times both on one expansion, keeps the faster, and the result is right (m=${m})`, async () => {
      const ctx = await testContext();
      await withTuner(ctx, measureRowwise, async () => {
        const seed = freshSeed();
        const f = fixture(ctx, seed);
        await runAndCheck(ctx, f, m, seed, `sparse matmul 2:4 q4_0 (m=${m})`);
        const [record] = ctx.tuner.records;
        expect(record.key).toBe(`sparse-${m === 1 ? "gemv" : "gemm"}:2:4-q4_0:${ROWS}x${COLS}`);
        const timed = record.candidates.filter((c) => c.ms !== null).map((c) => choiceName(c.choice));
        expect(timed).toEqual(["rowwise", "rowwise/64+dense"]);
        expect(f.expansions).toHaveLength(1);
        // Kept only if chosen.
        expect(f.gpu.dense).toBe(record.chosen.weights === "dense" ? f.expansions[0] : undefined);
      });
    });
  }

  test("a stored dense choice runs the dense kernel on the expansion; a stored sparse one never expands", async () => {
    const ctx = await testContext();
    const key = `sparse-gemv:2:4-q4_0:${ROWS}x${COLS}`;
    for (const dense of [true, false]) {
      const stored = dense ? { variant: "rowwise", workgroupSize: 64, weights: "dense" } : { variant: "rowwise" };
      await withTuner(
        ctx,
        (t) => t.choices.set(key, stored as KernelChoice),
        async () => {
          const seed = freshSeed();
          const f = fixture(ctx, seed);
          await runAndCheck(ctx, f, 1, seed, `sparse gemv 2:4 q4_0, stored ${choiceName(stored as KernelChoice)}`);
          expect(f.expansions).toHaveLength(dense ? 1 : 0);
          expect(ctx.tuner.used.has(`gemv:q4_0:${ROWS}x${COLS}`)).toBe(dense);
          expect(f.gpu.dense).toBe(dense ? f.expansions[0] : undefined);
        },
      );
    }
  });

  test("a weight whose ops all chose dense can free its sparse planes, and then runs dense whatever is stored", async () => {
    const ctx = await testContext();
    const key = `sparse-gemv:2:4-q4_0:${ROWS}x${COLS}`;
    await withTuner(
      ctx,
      (t) => t.choices.set(key, { variant: "rowwise", workgroupSize: 64, weights: "dense" }),
      async () => {
        const seed = freshSeed();
        const f = fixture(ctx, seed);
        await runAndCheck(ctx, f, 1, seed, "sparse gemv 2:4 q4_0 before release");
        expect(releaseUnusedSparsePlanes(f.gpu)).toBe(true);
        expect(f.gpu.chunks).toHaveLength(0);
        // As the model loader does once a dense copy exists: the CPU planes go, the copy serves from now on.
        f.gpu.expand = undefined;
        // A sparse choice met later (another step, a stored choice) runs the dense copy instead.
        ctx.tuner.choices.set(key, { variant: "rowwise" });
        await runAndCheck(ctx, f, 1, seed, "sparse gemv 2:4 q4_0 after release");
        await runAndCheck(ctx, f, 19, seed, "sparse gemm 2:4 q4_0 after release");
        expect(f.expansions).toHaveLength(1);
      },
    );
    // A weight a sparse kernel reads keeps its planes.
    await withTuner(
      ctx,
      (t) => t.choices.set(key, { variant: "rowwise" }),
      async () => {
        const f = fixture(ctx, freshSeed());
        await runAndCheck(ctx, f, 1, 7, "sparse gemv 2:4 q4_0, sparse chosen");
        f.gpu.dense = f.gpu.expand!();
        expect(releaseUnusedSparsePlanes(f.gpu)).toBe(false);
        expect(f.gpu.chunks.length).toBeGreaterThan(0);
      },
    );
  });

  test("without dense planes to expand, measuring keeps a sparse kernel", async () => {
    const ctx = await testContext();
    await withTuner(ctx, measureRowwise, async () => {
      const seed = freshSeed();
      const f = randomSparseWeight(ctx, parsePattern("2:4"), "q4_0", ROWS, COLS, rng(seed));
      await runAndCheck(ctx, f, 1, seed, "sparse gemv 2:4 q4_0, nothing to expand");
      const [record] = ctx.tuner.records;
      expect(record.candidates.find((c) => c.choice.weights === "dense")?.ms).toBeNull();
      expect(record.chosen).toEqual({ variant: "rowwise" });
    });
  });
});

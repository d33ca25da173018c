// Test suites of the sparse matmul kernels, registered by the sparse-*.gpu.test.ts files for a few patterns each
// (every pipeline takes about a second to compile on SwiftShader, so one file per all patterns would be slow):
// sparseGemv / sparseGemm against the float64 dense reference (zeros written out), every value type and variant, on
// awkward shapes, split weights, the no-subgroup path and poisoned outputs.
import { expect, test } from "vitest";
import { sparseGemv } from "./sparse-gemv.ts";
import { sparseGemm } from "./sparse-gemm.ts";
import { MATMUL_VARIANTS, type MatmulVariant } from "./gemv.ts";
import { runDispatches } from "./dispatch.ts";
import { uploadBuffer } from "../gpu/readback.ts";
import type { GpuContext } from "../gpu/device.ts";
import { groupTermScale, matmul, matmulTermScale } from "../reference/matmul.ts";
import {
  parsePattern,
  SPARSE_VALUE_TYPES,
  sparseStrides,
  type NMPattern,
  type SparseValueType,
} from "../loaders/sparse-nm.ts";
import { expectClose, freshSeed, guardedOutput, randomF32, readGuardedF32, rng, testContext } from "./testing.ts";
import { withBindingLimit, withoutSubgroups } from "./weight-fixtures.ts";
import { randomSparseWeight } from "./sparse-fixtures.ts";

// f32 accumulation over up to 4160 columns, normalised by the largest output or the sum of |terms|. The rowwise
// GEMV also interpolates x at each kept column (a few tens of ulps of its group's largest |x|); the GEMMs and the
// cooperative GEMV run the dense kernels on the kept values written out as dense columns.
const TOLERANCE = 2e-5;

/** m x rows x cols (m = 1: GEMV): row counts 1 and 257, tiles cut mid-way, float rows ending inside a block. */
function shapes(op: "gemv" | "gemm", type: SparseValueType, p: NMPattern): [number, number, number][] {
  const cols = type === "q8_0" || type === "q4_0" ? [32, 4160, 96] : p.m === 4 ? [4, 4100, 36] : [8, 4104, 40];
  return op === "gemv"
    ? [
        [1, 1, cols[0]],
        [1, 257, cols[1]],
        [1, 6, cols[2]],
      ]
    : [
        [2, 1, cols[0]],
        [5, 257, cols[1]],
        [67, 9, cols[2]],
      ];
}

async function check(
  ctx: GpuContext,
  p: NMPattern,
  type: SparseValueType,
  [m, rows, cols]: [number, number, number],
  op: "gemv" | "gemm",
  variant: MatmulVariant,
  name: string,
): Promise<number> {
  const seed = freshSeed();
  const random = rng(seed);
  const w = randomSparseWeight(ctx, p, type, rows, cols, random);
  const xData = randomF32(m * cols, random, 1);
  const x = uploadBuffer(ctx.device, xData);
  const out = guardedOutput(ctx, m * rows);
  const k =
    op === "gemv"
      ? await sparseGemv(ctx, { weight: w.gpu, x, out: out.binding, variant })
      : await sparseGemm(ctx, { weight: w.gpu, x, out: out.binding, m, variant });
  expect(k.dispatches.length).toBe(w.gpu.chunks.length);
  await runDispatches(ctx, k.dispatches);
  const got = await readGuardedF32(ctx, out);
  const want = matmul(new Float64Array(m * rows), xData, w.values, m, rows, cols);
  // The rowwise GEMV interpolates each x through the 4 x of its group (M = 8: of its half-group), so its error
  // follows their largest |x|, not the x a weight meets (sparse-access.wgsl).
  const scale =
    op === "gemv" && variant === "rowwise"
      ? groupTermScale(xData, w.values, m, rows, cols, 4)
      : matmulTermScale(xData, w.values, m, rows, cols);
  expectClose(name, seed, got, want, TOLERANCE, scale);
  return w.gpu.chunks.length;
}

function caseName(op: string, pattern: string, type: string, [m, rows, cols]: number[], what: string): string {
  return `sparse-${op}-${pattern}-${type}(${op === "gemm" ? `m=${m}, ` : ""}rows=${rows}, cols=${cols}, ${what})`;
}

/** Every value type and variant of `op` on the patterns given; then, for each value type listed in `extra`, a weight
 *  split into three row chunks in each variant, and each variant with a subgroup kernel run without subgroups. */
export function sparseMatmulSuite(op: "gemv" | "gemm", patterns: string[], extra: SparseValueType[]): void {
  for (const pattern of patterns) {
    const p = parsePattern(pattern);
    for (const type of SPARSE_VALUE_TYPES) {
      for (const shape of shapes(op, type, p)) {
        for (const variant of MATMUL_VARIANTS) {
          const name = caseName(op, pattern, type, shape, variant);
          test(name, async () => {
            await check(await testContext(), p, type, shape, op, variant, name);
          });
        }
      }
    }
    for (const type of extra) {
      const cols = type === "q8_0" || type === "q4_0" ? 96 : 8 * p.m + p.m;
      const shape: [number, number, number] = [op === "gemv" ? 1 : 5, 257, cols];
      for (const variant of MATMUL_VARIANTS) {
        const name = caseName(op, pattern, type, shape, `${variant}, split into row chunks`);
        test(name, async () => {
          const ctx = await testContext();
          // About 100 rows per chunk: the weight spans three chunks.
          const s = sparseStrides(p, type, cols);
          await withBindingLimit(ctx, Math.max(s.positionWords, s.valueWords, s.scaleWords) * 4 * 100, async () => {
            expect(await check(ctx, p, type, shape, op, variant, name)).toBe(3);
          });
        });
      }
      // Both GEMV variants and the rowwise GEMM have a subgroup kernel and one without.
      for (const variant of op === "gemv" ? MATMUL_VARIANTS : (["rowwise"] as const)) {
        const name = caseName(op, pattern, type, shape, `${variant}, no subgroups`);
        test(name, async () => {
          const ctx = await testContext();
          await withoutSubgroups(ctx, () => check(ctx, p, type, shape, op, variant, name));
        });
      }
    }
  }
}

// Skiff's matmul kernels as contenders: gemv (m = 1) and gemm (m > 1) over a random weight quantized to the case's
// type and repacked exactly as an import would, every variant the launchers offer, each output spot-checked. A case
// with `sparsity` runs the N:M sparse kernels and, as their baseline, the dense ones on the same tensor.
import type { GpuContext } from "../src/gpu/device.ts";
import { uploadBuffer } from "../src/gpu/readback.ts";
import { defaultMatmulVariant, gemv, MATMUL_VARIANTS, type MatmulVariant } from "../src/kernels/gemv.ts";
import { gemm } from "../src/kernels/gemm.ts";
import { sparseGemv } from "../src/kernels/sparse-gemv.ts";
import { sparseGemm } from "../src/kernels/sparse-gemm.ts";
import { randomSparsePair } from "../src/kernels/sparse-fixtures.ts";
import type { Dispatch } from "../src/kernels/dispatch.ts";
import type { GpuSparseWeight } from "../src/kernels/sparse-weights.ts";
import { floorContext } from "./arithmetic-floor.ts";
import { parsePattern, sparseBytes, type SparseValueType } from "../src/loaders/sparse-nm.ts";
import { destroyWeight, uploadWeight, weightBytes, type GpuWeight } from "../src/kernels/weights.ts";
import { dequantize, ggufBytes, type WeightType } from "../src/loaders/ggml-quants.ts";
import { randomWeightBytes } from "../src/kernels/weight-fixtures.ts";
import { repack } from "../src/loaders/repack.ts";
import { randomF32 } from "../src/kernels/testing.ts";
import { SKIFF_TIMED, timeSkiff } from "./skiff-timing.ts";
import { dotReference, poison, spotCheckBuffer } from "./spot-check.ts";
import { errorText } from "./timing.ts";
import type { ContenderResult, MatmulCase, RunBudget } from "./types.ts";

interface Style {
  variant: MatmulVariant;
  /** Cooperative only: whether the device's subgroups may be used (false forces the workgroup-memory reduction). */
  subgroups: boolean;
  label: string;
}

/** Every variant; for gemv's cooperative one (the only kernel here that reads ctx.features.subgroups) both
 *  reductions where the device has subgroups. */
function styles(ctx: GpuContext, op: "gemv" | "gemm"): Style[] {
  const all: Style[] = [];
  for (const variant of MATMUL_VARIANTS) {
    if (op === "gemm") {
      all.push({ variant, subgroups: ctx.features.subgroups, label: variant });
      continue;
    }
    if (variant === "cooperative" && ctx.features.subgroups) {
      all.push({ variant, subgroups: true, label: "cooperative+subgroups" });
    }
    all.push({ variant, subgroups: false, label: variant === "cooperative" ? "cooperative+shared" : variant });
  }
  return all;
}

function isDefaultStyle(ctx: GpuContext, s: Style): boolean {
  if (s.variant !== defaultMatmulVariant(ctx)) return false;
  return s.variant === "rowwise" || s.subgroups === ctx.features.subgroups;
}

/** The launchers read ctx.features.subgroups; a copy with it off selects the workgroup-memory path. */
function contextFor(ctx: GpuContext, s: Style): GpuContext {
  if (s.variant !== "cooperative" || s.subgroups === ctx.features.subgroups) return ctx;
  return { ...ctx, features: { ...ctx.features, subgroups: s.subgroups } };
}

interface BenchWeight {
  gpu: GpuWeight;
  /** W(row, j) of the GGUF bytes, dequantized one row at a time for the spot check. */
  value(row: number, j: number): number;
}

function randomWeight(ctx: GpuContext, c: MatmulCase, random: () => number): BenchWeight {
  // A case may name any runnable type (bench/types.ts lists those with peers); types without a quantizer
  // (K-quants) get random valid blocks of the same size.
  const type = c.type as WeightType;
  const bytes = randomWeightBytes(type, c.n * c.k, random, 0.05);
  const gpu = uploadWeight(ctx, repack(type, bytes, c.n, c.k, c.id), `bench.${c.id}`);
  const rowBytes = ggufBytes(type, c.k);
  const rows = new Map<number, Float64Array>();
  return {
    gpu,
    value(row, j) {
      let values = rows.get(row);
      if (!values) {
        values = dequantize(type, bytes.subarray(row * rowBytes, (row + 1) * rowBytes), c.k);
        rows.set(row, values);
      }
      return values[j];
    },
  };
}

/** The kernel of one style over the sparse weight, or over the dense one when `sparse` is undefined. */
function prepareMatmul(
  ctx: GpuContext,
  c: MatmulCase,
  s: Style,
  dense: GpuWeight,
  sparse: GpuSparseWeight | undefined,
  x: GPUBuffer,
  out: GPUBuffer,
) {
  const vctx = contextFor(ctx, s);
  if (sparse) {
    return c.m === 1
      ? sparseGemv(vctx, { weight: sparse, x, out, variant: s.variant })
      : sparseGemm(vctx, { weight: sparse, x, out, m: c.m, variant: s.variant });
  }
  return c.m === 1
    ? gemv(vctx, { weight: dense, x, out, variant: s.variant })
    : gemm(vctx, { weight: dense, x, out, m: c.m, variant: s.variant });
}

export async function benchSkiffMatmul(
  ctx: GpuContext,
  c: MatmulCase,
  budget: RunBudget,
  random: () => number,
): Promise<ContenderResult[]> {
  const op = c.m === 1 ? ("gemv" as const) : ("gemm" as const);
  // Sparse cases: one random N:M tensor, run by the sparse kernels and by the dense ones with its zeros written out.
  const pattern = c.sparsity ? parsePattern(c.sparsity) : undefined;
  const type = c.type as SparseValueType;
  const pair = pattern && randomSparsePair(ctx, pattern, type, c.n, c.k, random, `bench.${c.id}`);
  const weight = pair || randomWeight(ctx, c, random);
  const xData = randomF32(c.m * c.k, random);
  const x = uploadBuffer(ctx.device, xData, "bench.x");
  const out = uploadBuffer(ctx.device, new Float32Array(c.m * c.n), "bench.out");
  const results: ContenderResult[] = [];
  const contender = (sparse: GpuSparseWeight | undefined, s: Style): ContenderResult => ({
    name: `skiff ${sparse ? `sparse ${c.sparsity} ` : ""}${op} ${s.label}`,
    family: "skiff",
    variant: s.label,
    isDefault: isDefaultStyle(ctx, s),
    baseline: pair && !sparse ? true : undefined,
    weightBytes: pattern && sparse ? sparseBytes(pattern, type, c.n, c.k) : weightBytes(c.type, c.n, c.k),
    timed: SKIFF_TIMED,
  });
  const kinds = pair ? [pair.sparse, undefined] : [undefined];
  try {
    for (const sparse of kinds) {
      for (const s of styles(ctx, op)) {
        const r = contender(sparse, s);
        try {
          poison(ctx.device, out, c.m * c.n);
          const k = await prepareMatmul(ctx, c, s, weight.gpu, sparse, x, out);
          Object.assign(r, await timeSkiff(ctx, k.dispatches, budget));
          await spotCheckBuffer(ctx.device, out, c.m, c.n, (row, col) =>
            dotReference(xData, row * c.k, c.k, (j) => weight.value(col, j)),
          );
        } catch (e) {
          r.error = errorText(e);
        }
        results.push(r);
      }
    }
    if (c.floor) {
      const s = styles(ctx, op).find((style) => isDefaultStyle(ctx, style))!;
      for (const sparse of kinds)
        results.push(
          await benchFloor(ctx, c, contender(sparse, s), budget, (fctx) =>
            prepareMatmul(fctx, c, s, weight.gpu, sparse, x, out),
          ),
        );
    }
  } finally {
    if (pair) pair.destroy();
    else destroyWeight(weight.gpu);
    x.destroy();
    out.destroy();
  }
  return results;
}

/** The default kernel's arithmetic floor (bench/arithmetic-floor.ts), timed like the kernel; its output is not
 *  checked, but a floor that replaced no weight read is an error, not a result. */
async function benchFloor(
  ctx: GpuContext,
  c: MatmulCase,
  real: ContenderResult,
  budget: RunBudget,
  prepare: (ctx: GpuContext) => Promise<{ dispatches: Dispatch[] }>,
): Promise<ContenderResult> {
  const r: ContenderResult = {
    ...real,
    name: `${real.name}, no weight loads (arithmetic floor)`,
    isDefault: false,
    floor: true,
  };
  try {
    const floor = floorContext(ctx);
    const k = await prepare(floor.ctx);
    if (floor.reads === 0) throw new Error(`no weight read found to replace in the kernels of ${c.id}`);
    Object.assign(r, await timeSkiff(ctx, k.dispatches, budget));
  } catch (e) {
    r.error = errorText(e);
  }
  return r;
}

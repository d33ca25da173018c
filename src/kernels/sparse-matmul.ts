// The graph's matmul over an N:M sparse weight (a pruned tensor stored compressed at import): the sparse GEMV for one
// token, the sparse GEMM for more, in the variant tuning picks (src/kernels/tuning.ts), as gemv.ts and gemm.ts do for
// dense weights.
import type { GpuContext } from "../gpu/device.ts";
import { patternName } from "../loaders/sparse-nm.ts";
import type { Binding } from "./dispatch.ts";
import { gemm, type GemmKernel } from "./gemm.ts";
import { destroyWeight, type GpuWeight } from "./weights.ts";
import { gemv, type GemvKernel, type MatmulVariant } from "./gemv.ts";
import { SkiffError } from "../errors.ts";
import { sparseGemm } from "./sparse-gemm.ts";
import { sparseGemv } from "./sparse-gemv.ts";
import type { GpuSparseWeight } from "./sparse-weights.ts";
import { tunedKernel, type KernelChoice } from "./tuning.ts";

/** The sparse launchers (no workgroup size: one candidate per style) first, so a style's default is sparse; then the
 *  dense kernels on the expanded weight, which tuning times too: fewer bytes do not always mean less time (on a
 *  CPU adapter the sparse q4_0 GEMV does more arithmetic per byte than the dense one, bench/results). */
export const SPARSE_CANDIDATES: readonly KernelChoice[] = [
  { variant: "rowwise" },
  { variant: "cooperative" },
  { variant: "rowwise", workgroupSize: 64, weights: "dense" },
  { variant: "cooperative", workgroupSize: 64, weights: "dense" },
];

export interface SparseMatmulArgs {
  weight: GpuSparseWeight;
  x: GPUBuffer | Binding;
  out: GPUBuffer | Binding;
  /** Activation rows (tokens). */
  m: number;
  variant?: MatmulVariant;
}

export async function sparseMatmul(ctx: GpuContext, a: SparseMatmulArgs): Promise<GemvKernel | GemmKernel> {
  const w = a.weight;
  const op = a.m === 1 ? "sparse-gemv" : "sparse-gemm";
  // Like gemm, not keyed by m: prefill chunks share one choice whatever their length.
  const key = `${op}:${patternName(w.pattern)}-${w.type}:${w.rows}x${w.cols}`;
  let expanded: GpuWeight | undefined;
  // Sparse planes released after load (every op chose dense): only the dense copy is left to run.
  const denseOnly = w.chunks.length === 0;
  const kernel = await tunedKernel<GemvKernel | GemmKernel>(ctx, {
    key,
    candidates: denseOnly ? SPARSE_CANDIDATES.filter((c) => c.weights === "dense") : SPARSE_CANDIDATES,
    requested: { variant: a.variant },
    prepare: ({ variant, workgroupSize, weights }) => {
      if (weights !== "dense") {
        return a.m === 1
          ? sparseGemv(ctx, { weight: w, x: a.x, out: a.out, variant })
          : sparseGemm(ctx, { ...a, variant });
      }
      // One expansion serves every dense candidate of this op (they are prepared together).
      expanded ??= w.dense ?? w.expand?.();
      if (!expanded) {
        return Promise.reject(new SkiffError("bad-argument", `${key}: no dense planes to run the dense kernels on`));
      }
      // A forced choice: the dense launchers must not tune again under this op's measurement.
      const dense = { weight: expanded, x: a.x, out: a.out, variant, workgroupSize };
      return a.m === 1 ? gemv(ctx, dense) : gemm(ctx, { ...dense, m: a.m });
    },
  });
  // Kept while a kernel reads it; an expansion made only to be timed goes.
  if (ctx.tuner.used.get(key)?.weights === "dense") w.dense = expanded ?? w.dense;
  else {
    w.sparseInUse = true;
    if (expanded && expanded !== w.dense) destroyWeight(expanded);
  }
  return kernel;
}

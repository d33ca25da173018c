// The graph's matmul over an N:M sparse weight (a pruned tensor stored compressed at import): the sparse GEMV for one
// token, the sparse GEMM for more, in the variant tuning picks (src/kernels/tuning.ts), as gemv.ts and gemm.ts do for
// dense weights.
import type { GpuContext } from "../gpu/device.ts";
import { patternName } from "../loaders/sparse-nm.ts";
import type { Binding } from "./dispatch.ts";
import type { GemmKernel } from "./gemm.ts";
import type { GpuWeight } from "./weights.ts";
import type { GemvKernel, MatmulVariant } from "./gemv.ts";
import { sparseGemm } from "./sparse-gemm.ts";
import { sparseGemv } from "./sparse-gemv.ts";
import type { GpuSparseWeight } from "./sparse-weights.ts";
import { tunedKernel, type KernelChoice } from "./tuning.ts";

/** The sparse launchers take no workgroup size: one candidate per style. */
export const SPARSE_CANDIDATES: readonly KernelChoice[] = [{ variant: "rowwise" }, { variant: "cooperative" }];

export interface SparseMatmulArgs {
  weight: GpuSparseWeight;
  x: GPUBuffer | Binding;
  out: GPUBuffer | Binding;
  /** Activation rows (tokens). */
  m: number;
  variant?: MatmulVariant;
}

export function isSparseWeight(w: GpuWeight | GpuSparseWeight): w is GpuSparseWeight {
  return "pattern" in w;
}

export function sparseMatmul(ctx: GpuContext, a: SparseMatmulArgs): Promise<GemvKernel | GemmKernel> {
  const w = a.weight;
  const op = a.m === 1 ? "sparse-gemv" : "sparse-gemm";
  return tunedKernel<GemvKernel | GemmKernel>(ctx, {
    // Like gemm, not keyed by m: prefill chunks share one choice whatever their length.
    key: `${op}:${patternName(w.pattern)}-${w.type}:${w.rows}x${w.cols}`,
    candidates: SPARSE_CANDIDATES,
    requested: { variant: a.variant },
    prepare: ({ variant }) =>
      a.m === 1 ? sparseGemv(ctx, { weight: w, x: a.x, out: a.out, variant }) : sparseGemm(ctx, { ...a, variant }),
  });
}

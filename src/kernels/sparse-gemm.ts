// Launcher for the prefill GEMM over N:M sparse weights: out[i, r] = sum_k x[i, k] * W[r, k] for m activation rows,
// one dispatch per row chunk. It runs the dense GEMM kernels (shaders/gemm*.wgsl, "rowwise" register tiles of 8 x 16
// and "cooperative" 32 x 32 workgroup tiles) on the sparse planes through sparse-access.wgsl, whose w_chunk writes a
// block's kept values out as dense columns in registers: decoded once per weight row and tile, reused by every
// activation row of the tile, so the gather-free dense inner loop stays as it is and only the weight bytes shrink.
import commonSource from "../../shaders/gemm.wgsl?raw";
import dotSource from "../../shaders/gemm-dot.wgsl?raw";
import xVec4Source from "../../shaders/gemm-x-vec4.wgsl?raw";
import coopSource from "../../shaders/gemm-coop.wgsl?raw";
import type { GpuContext } from "../gpu/device.ts";
import { SkiffError } from "../errors.ts";
import { ceilDiv, combine, prepareKernel, type Binding } from "./dispatch.ts";
import { gemmKernel, rowwiseGemm, type GemmKernel } from "./gemm.ts";
import { defaultMatmulVariant, MATMUL_VARIANTS, type MatmulVariant } from "./gemv.ts";
import { requireBytes } from "./grid.ts";
import { sparseShape } from "./sparse-gemv.ts";
import { checkSparseKernels, sparseChunkBindings, sparseSource, type GpuSparseWeight } from "./sparse-weights.ts";

export interface SparseGemmArgs {
  weight: GpuSparseWeight;
  /** (m, cols) f32, row-major. */
  x: GPUBuffer | Binding;
  /** (m, rows) f32, row-major. */
  out: GPUBuffer | Binding;
  /** Activation rows (tokens), at least 1. */
  m: number;
  variant?: MatmulVariant;
}

/** The dense GEMM kernels' tiles (gemm.ts): rowwise in workgroups of 64 (rowwiseGemm), cooperative one 32 x 32 tile
 *  per workgroup. */
const ROWWISE_WG = 64;
const COOP_TILE = 32;

export function sparseGemm(ctx: GpuContext, a: SparseGemmArgs): Promise<GemmKernel> {
  const { weight, m } = a;
  checkSparseKernels(weight);
  const variant = a.variant ?? defaultMatmulVariant(ctx);
  const shape = sparseShape("gemm", weight, m);
  if (!(Number.isInteger(m) && m >= 1)) {
    throw new SkiffError("bad-shape", `${shape}: m must be a positive integer`);
  }
  if (!MATMUL_VARIANTS.includes(variant)) {
    throw new SkiffError("bad-argument", `${shape}: unknown variant "${String(variant)}"`);
  }
  requireBytes(shape, `x (m=${m} x cols=${weight.cols} f32)`, a.x, m * weight.cols * 4);
  requireBytes(shape, `out (m=${m} x rows=${weight.rows} f32)`, a.out, m * weight.rows * 4);
  return prepareSparseGemm(ctx, a, variant);
}

async function prepareSparseGemm(ctx: GpuContext, a: SparseGemmArgs, variant: MatmulVariant): Promise<GemmKernel> {
  const { weight, m } = a;
  const w = sparseSource(weight.pattern, weight.type);
  // cols % 4 == 0 for every pattern, so x is always read as vec4.
  const rowwise = rowwiseGemm(ctx, ROWWISE_WG);
  const access = [xVec4Source, dotSource, commonSource, w.source];
  const source = variant === "rowwise" ? rowwise.source(access) : [...access, coopSource].join("\n");
  const parts: GemmKernel[] = [];
  for (const chunk of weight.chunks) {
    const workgroups: [number, number] =
      variant === "rowwise" ? rowwise.grid(chunk.rows, m) : [ceilDiv(chunk.rows, COOP_TILE), ceilDiv(m, COOP_TILE)];
    parts.push(
      await prepareKernel({
        ctx,
        kernel: gemmKernel,
        source,
        variant: `sparse:${w.name}:${variant}${variant === "rowwise" ? rowwise.suffix : ""}`,
        bindings: [a.x, a.out, ...sparseChunkBindings(chunk)],
        params: { m, rows: chunk.rows, cols: weight.cols, row_offset: chunk.rowStart, out_stride: weight.rows },
        workgroups,
        constants: variant === "rowwise" ? rowwise.constants : undefined,
      }),
    );
  }
  return combine(parts);
}

// Launcher for the decode GEMV over N:M sparse weights: out[r] = sum_k W[r, k] * x[k], one dispatch per row chunk.
// Variants: "rowwise" (shaders/sparse-gemv-rowwise.wgsl: barrier-free, 16 rows per invocation, picks x at each kept
// value's column; with subgroups its entry point sparse-gemv-rowwise-subgroup.wgsl shares x loads across lanes, else
// sparse-gemv-rowwise-plain.wgsl; 2:4 f32 with subgroups has its own, sparse-gemv-rowwise-f32.wgsl, 4 rows per
// invocation) and "cooperative" (the dense gemv-coop kernels, a workgroup per four rows reduced with subgroups or
// in workgroup memory, reading the sparse weight through sparse-access.wgsl's dense-column interface).
import commonSource from "../../shaders/gemv.wgsl?raw";
import blockSource from "../../shaders/gemv-block.wgsl?raw";
import dotSource from "../../shaders/gemm-dot.wgsl?raw";
import xVec4Source from "../../shaders/gemm-x-vec4.wgsl?raw";
import coopSource from "../../shaders/gemv-coop.wgsl?raw";
import coopSubgroupSource from "../../shaders/gemv-coop-subgroup.wgsl?raw";
import coopSharedSource from "../../shaders/gemv-coop-shared.wgsl?raw";
import rowwiseSource from "../../shaders/sparse-gemv-rowwise.wgsl?raw";
import rowwisePlainSource from "../../shaders/sparse-gemv-rowwise-plain.wgsl?raw";
import rowwiseSubgroupSource from "../../shaders/sparse-gemv-rowwise-subgroup.wgsl?raw";
import rowwiseF32Source from "../../shaders/sparse-gemv-rowwise-f32.wgsl?raw";
import type { GpuContext } from "../gpu/device.ts";
import { SkiffError } from "../errors.ts";
import { ceilDiv, combine, prepareKernel, type Binding } from "./dispatch.ts";
import { defaultMatmulVariant, gemvKernel, MATMUL_VARIANTS, type GemvKernel, type MatmulVariant } from "./gemv.ts";
import { foldWorkgroups, requireBytes } from "./grid.ts";
import { checkSparseKernels, sparseChunkBindings, sparseSource, type GpuSparseWeight } from "./sparse-weights.ts";
import { patternName } from "../loaders/sparse-nm.ts";

export interface SparseGemvArgs {
  weight: GpuSparseWeight;
  /** cols f32 values. */
  x: GPUBuffer | Binding;
  /** rows f32 values. */
  out: GPUBuffer | Binding;
  variant?: MatmulVariant;
}

/** Rowwise: 16 rows per invocation (the 2:4 f32 kernel: 4), 64 invocations per workgroup; cooperative: 4 rows per
 *  workgroup of 64. */
const ROWWISE_WG = 64;
const ROWWISE_ROWS = 16;
const ROWWISE_F32_ROWS = 4;
const COOP_WG = 64;
const COOP_ROWS = 4;

/** "sparse-gemv-2:4-q4_0(rows=8, cols=64)". */
export function sparseShape(op: string, w: GpuSparseWeight, m?: number): string {
  const mPart = m === undefined ? "" : `m=${m}, `;
  return `sparse-${op}-${patternName(w.pattern)}-${w.type}(${mPart}rows=${w.rows}, cols=${w.cols})`;
}

export function sparseGemv(ctx: GpuContext, a: SparseGemvArgs): Promise<GemvKernel> {
  const { weight } = a;
  checkSparseKernels(weight);
  const variant = a.variant ?? defaultMatmulVariant(ctx);
  const shape = sparseShape("gemv", weight);
  if (!MATMUL_VARIANTS.includes(variant)) {
    throw new SkiffError("bad-argument", `${shape}: unknown variant "${String(variant)}"`);
  }
  requireBytes(shape, `x (cols=${weight.cols} f32)`, a.x, weight.cols * 4);
  requireBytes(shape, `out (rows=${weight.rows} f32)`, a.out, weight.rows * 4);
  return prepareSparseGemv(ctx, a, variant);
}

/** The joined WGSL of one (pattern, value type, variant), its pipeline-cache name and the rows per workgroup. */
function gemvSource(
  ctx: GpuContext,
  weight: GpuSparseWeight,
  variant: MatmulVariant,
): { source: string; name: string; rows: number } {
  const w = sparseSource(weight.pattern, weight.type);
  const parts = [xVec4Source, dotSource, commonSource, w.source];
  const name = `sparse:${w.name}:${variant}`;
  // `enable subgroups;` must open the module, so the subgroup entry point goes first.
  if (variant === "rowwise") {
    const rows = ROWWISE_ROWS * ROWWISE_WG;
    if (!ctx.features.subgroups) {
      return { source: [...parts, rowwiseSource, rowwisePlainSource].join("\n"), name, rows };
    }
    if (patternName(weight.pattern) === "2:4" && weight.type === "f32") {
      const source = [rowwiseF32Source, ...parts].join("\n");
      return { source, name: `${name}-f32-subgroup`, rows: ROWWISE_F32_ROWS * ROWWISE_WG };
    }
    return { source: [rowwiseSubgroupSource, ...parts, rowwiseSource].join("\n"), name: `${name}-subgroup`, rows };
  }
  if (ctx.features.subgroups) {
    const source = [coopSubgroupSource, ...parts, blockSource, coopSource].join("\n");
    return { source, name: `${name}-subgroup`, rows: COOP_ROWS };
  }
  const source = [...parts, blockSource, coopSource, coopSharedSource].join("\n");
  return { source, name: `${name}-shared`, rows: COOP_ROWS };
}

async function prepareSparseGemv(ctx: GpuContext, a: SparseGemvArgs, variant: MatmulVariant): Promise<GemvKernel> {
  const { weight } = a;
  const { source, name, rows } = gemvSource(ctx, weight, variant);
  const parts: GemvKernel[] = [];
  for (const chunk of weight.chunks) {
    const [gx, gy] = foldWorkgroups(ctx, ceilDiv(chunk.rows, rows));
    parts.push(
      await prepareKernel({
        ctx,
        kernel: gemvKernel,
        source,
        variant: name,
        bindings: [a.x, a.out, ...sparseChunkBindings(chunk)],
        params: { rows: chunk.rows, cols: weight.cols, row_offset: chunk.rowStart, grid_x: gx },
        workgroups: [gx, gy],
        constants: { WG: variant === "rowwise" ? ROWWISE_WG : COOP_WG },
      }),
    );
  }
  return combine(parts);
}

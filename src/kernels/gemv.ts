// Launcher for the decode GEMV (shaders/gemv*.wgsl): out[r] = sum_k W[r, k] * x[k] for a weight of any runnable type,
// one dispatch per row chunk of the weight. Variants: "rowwise" (barrier-free, 8 rows per invocation) and
// "cooperative" (a workgroup per four rows, reduced with subgroups when the device has them, else in workgroup memory).
import commonSource from "../../shaders/gemv.wgsl?raw";
import dotSource from "../../shaders/gemm-dot.wgsl?raw";
import rowwiseSource from "../../shaders/gemv-rowwise.wgsl?raw";
import coopSource from "../../shaders/gemv-coop.wgsl?raw";
import coopSubgroupSource from "../../shaders/gemv-coop-subgroup.wgsl?raw";
import coopSharedSource from "../../shaders/gemv-coop-shared.wgsl?raw";
import type { GpuContext } from "../gpu/device.ts";
import { SkiffError } from "../errors.ts";
import { ceilDiv, combine, defineKernel, prepareKernel, type Binding, type PreparedKernel } from "./dispatch.ts";
import {
  activationSource,
  chunkBindings,
  foldWorkgroups,
  requireBytes,
  weightSource,
  type GpuWeight,
} from "./weights.ts";

/** "rowwise": barrier-free, wins on CPU adapters; "cooperative": shared work per row, wins on real GPUs. */
export type MatmulVariant = "rowwise" | "cooperative";

export const MATMUL_VARIANTS: readonly MatmulVariant[] = ["rowwise", "cooperative"];

/** Rowwise on CPU implementations of WebGPU (SwiftShader, lavapipe), cooperative elsewhere. */
export function defaultMatmulVariant(ctx: GpuContext): MatmulVariant {
  return ctx.isCpuAdapter ? "rowwise" : "cooperative";
}

export const gemvKernel = defineKernel("gemv", commonSource, [
  ["rows", "u32"],
  ["cols", "u32"],
  ["row_offset", "u32"],
  ["grid_x", "u32"],
] as const);

export type GemvKernel = PreparedKernel<typeof gemvKernel.params.fields>;

export interface GemvArgs {
  weight: GpuWeight;
  /** cols f32 values. */
  x: GPUBuffer | Binding;
  /** rows f32 values. */
  out: GPUBuffer | Binding;
  variant?: MatmulVariant;
}

/** Invocations per workgroup and rows per workgroup: rowwise does 8 rows per invocation, cooperative 4 per workgroup. */
const ROWWISE_WG = 64;
const ROWWISE_ROWS = 8 * ROWWISE_WG;
const COOP_WG = 64;
const COOP_ROWS = 4;

export function gemv(ctx: GpuContext, a: GemvArgs): Promise<GemvKernel> {
  const { weight } = a;
  const variant = a.variant ?? defaultMatmulVariant(ctx);
  const shape = `gemv-${weight.type}(rows=${weight.rows}, cols=${weight.cols})`;
  if (!MATMUL_VARIANTS.includes(variant)) {
    throw new SkiffError("bad-argument", `${shape}: unknown variant "${String(variant)}"`);
  }
  weightSource(weight.type, weight.cols);
  requireBytes(shape, `x (cols=${weight.cols} f32)`, a.x, weight.cols * 4);
  requireBytes(shape, `out (rows=${weight.rows} f32)`, a.out, weight.rows * 4);
  return prepareGemv(ctx, a, variant);
}

/** The joined WGSL of one (type, variant, activation alignment) and its pipeline-cache name. */
function gemvSource(ctx: GpuContext, weight: GpuWeight, variant: MatmulVariant): { source: string; name: string } {
  const w = weightSource(weight.type, weight.cols);
  const x = activationSource(weight.cols);
  const parts = [w.source, x.source, dotSource, commonSource];
  const name = `${w.name}:${x.name}:${variant}`;
  if (variant === "rowwise") return { source: [...parts, rowwiseSource].join("\n"), name };
  // `enable subgroups;` must open the module, so the subgroup entry point goes first.
  if (ctx.features.subgroups) {
    return { source: [coopSubgroupSource, ...parts, coopSource].join("\n"), name: `${name}-subgroup` };
  }
  return { source: [...parts, coopSource, coopSharedSource].join("\n"), name: `${name}-shared` };
}

async function prepareGemv(ctx: GpuContext, a: GemvArgs, variant: MatmulVariant): Promise<GemvKernel> {
  const { weight } = a;
  const { source, name } = gemvSource(ctx, weight, variant);
  const rowsPerGroup = variant === "rowwise" ? ROWWISE_ROWS : COOP_ROWS;
  const parts: GemvKernel[] = [];
  for (const chunk of weight.chunks) {
    const [gx, gy] = foldWorkgroups(ctx, ceilDiv(chunk.rows, rowsPerGroup));
    parts.push(
      await prepareKernel({
        ctx,
        kernel: gemvKernel,
        source,
        variant: name,
        bindings: [a.x, a.out, ...chunkBindings(chunk)],
        params: { rows: chunk.rows, cols: weight.cols, row_offset: chunk.rowStart, grid_x: gx },
        workgroups: [gx, gy],
        constants: { WG: variant === "rowwise" ? ROWWISE_WG : COOP_WG },
      }),
    );
  }
  return combine(parts);
}

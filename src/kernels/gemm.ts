// Launcher for the prefill GEMM (shaders/gemm*.wgsl): out[i, r] = sum_k x[i, k] * W[r, k] for m activation rows and
// a weight of any runnable type, one dispatch per row chunk of the weight. Variants: "rowwise" (barrier-free
// register tiles of 8 x 16, at two workgroup sizes, sharing activation loads across subgroup lanes where the device has
// subgroups) and "cooperative" (32 x 32 workgroup tiles staged in workgroup memory); which one runs is settled by
// src/kernels/tuning.ts.
import commonSource from "../../shaders/gemm.wgsl?raw";
import dotSource from "../../shaders/gemm-dot.wgsl?raw";
import rowwiseSource from "../../shaders/gemm-rowwise.wgsl?raw";
import rowwisePlainSource from "../../shaders/gemm-rowwise-plain.wgsl?raw";
import rowwiseSubgroupSource from "../../shaders/gemm-rowwise-subgroup.wgsl?raw";
import coopSource from "../../shaders/gemm-coop.wgsl?raw";
import type { GpuContext } from "../gpu/device.ts";
import { SkiffError } from "../errors.ts";
import { ceilDiv, combine, defineKernel, prepareKernel, type Binding, type PreparedKernel } from "./dispatch.ts";
import { MATMUL_VARIANTS, type MatmulVariant } from "./gemv.ts";
import { tunedKernel, type KernelChoice } from "./tuning.ts";
import { activationSource, chunkBindings, weightSource, type GpuWeight } from "./weights.ts";
import { requireBytes } from "./grid.ts";

export const gemmKernel = defineKernel("gemm", commonSource, [
  ["m", "u32"],
  ["rows", "u32"],
  ["cols", "u32"],
  ["row_offset", "u32"],
  ["out_stride", "u32"],
] as const);

export type GemmKernel = PreparedKernel<typeof gemmKernel.params.fields>;

export interface GemmArgs {
  weight: GpuWeight;
  /** (m, cols) f32, row-major. */
  x: GPUBuffer | Binding;
  /** (m, rows) f32, row-major. */
  out: GPUBuffer | Binding;
  /** Activation rows (tokens), at least 1. */
  m: number;
  /** Forces a variant (and workgroup size); by default tuning or the adapter decides. */
  variant?: MatmulVariant;
  workgroupSize?: number;
}

/** Rowwise: each invocation 16 weight rows x 8 activation rows, in workgroups of (workgroupSize / 4) x 4 invocations,
 *  or with subgroups workgroupSize x 1 (so a subgroup's lanes share their activation rows); cooperative: one 32 x 32
 *  tile per workgroup of 8 x 8. */
const ROWWISE_WG_Y = 4;
const ROWWISE_TILE: [rows: number, m: number] = [16, 8];
const COOP_TILE = 32;

export interface RowwiseGemm {
  /** The kernel around the joined access files (weights, activations, dot, params). */
  source(parts: string[]): string;
  /** Pipeline-cache name suffix. */
  suffix: string;
  constants: { WG_X: number; WG_Y: number };
  grid(rows: number, m: number): [number, number];
}

/** The rowwise GEMM's entry point, workgroup shape and grid for this device (also run by sparse-gemm.ts). */
export function rowwiseGemm(ctx: GpuContext, workgroupSize: number): RowwiseGemm {
  const subgroups = ctx.features.subgroups;
  const wgY = subgroups ? 1 : ROWWISE_WG_Y;
  const wgX = workgroupSize / wgY;
  return {
    // `enable subgroups;` must open the module, so the subgroup entry point goes first.
    source: (parts) =>
      (subgroups
        ? [rowwiseSubgroupSource, ...parts, rowwiseSource]
        : [...parts, rowwiseSource, rowwisePlainSource]
      ).join("\n"),
    suffix: subgroups ? "-subgroup" : "",
    constants: { WG_X: wgX, WG_Y: wgY },
    grid: (rows, m) => [ceilDiv(rows, ROWWISE_TILE[0] * wgX), ceilDiv(m, ROWWISE_TILE[1] * wgY)],
  };
}

export const GEMM_CANDIDATES: readonly KernelChoice[] = [
  { variant: "rowwise", workgroupSize: 64 },
  { variant: "cooperative", workgroupSize: 64 },
  { variant: "rowwise", workgroupSize: 32 },
];

export function gemm(ctx: GpuContext, a: GemmArgs): Promise<GemmKernel> {
  const { weight, m } = a;
  const shape = `gemm-${weight.type}(m=${m}, rows=${weight.rows}, cols=${weight.cols})`;
  if (!(Number.isInteger(m) && m >= 1)) {
    throw new SkiffError("bad-shape", `${shape}: m must be a positive integer`);
  }
  if (a.variant !== undefined && !MATMUL_VARIANTS.includes(a.variant)) {
    throw new SkiffError("bad-argument", `${shape}: unknown variant "${String(a.variant)}"`);
  }
  weightSource(weight.type, weight.cols);
  requireBytes(shape, `x (m=${m} x cols=${weight.cols} f32)`, a.x, m * weight.cols * 4);
  requireBytes(shape, `out (m=${m} x rows=${weight.rows} f32)`, a.out, m * weight.rows * 4);
  return tunedKernel(ctx, {
    // Not keyed by m: prefill chunks share one choice whatever their length.
    key: `gemm:${weight.type}:${weight.rows}x${weight.cols}`,
    candidates: GEMM_CANDIDATES,
    requested: { variant: a.variant, workgroupSize: a.workgroupSize },
    prepare: (choice) => prepareGemm(ctx, a, choice),
  });
}

async function prepareGemm(ctx: GpuContext, a: GemmArgs, choice: KernelChoice): Promise<GemmKernel> {
  const { weight, m } = a;
  const { variant } = choice;
  const rowwise = rowwiseGemm(ctx, choice.workgroupSize ?? 64);
  const w = weightSource(weight.type, weight.cols);
  const x = activationSource(weight.cols);
  const access = [w.source, x.source, dotSource, commonSource];
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
        variant: `${w.name}:${x.name}:${variant}${variant === "rowwise" ? rowwise.suffix : ""}`,
        bindings: [a.x, a.out, ...chunkBindings(chunk)],
        params: { m, rows: chunk.rows, cols: weight.cols, row_offset: chunk.rowStart, out_stride: weight.rows },
        workgroups,
        constants: variant === "rowwise" ? rowwise.constants : undefined,
      }),
    );
  }
  return combine(parts);
}

// Launcher for the decode GEMV (shaders/gemv*.wgsl): out[r] = sum_k W[r, k] * x[k] for a weight of any runnable type,
// one dispatch per row chunk of the weight. Variants: "rowwise" (barrier-free, 8 rows per invocation, sharing x loads
// across subgroup lanes where the device has subgroups) and "cooperative" (a workgroup per four rows, reduced with
// subgroups when the device has them, else in workgroup memory), each at two workgroup sizes; which one runs is
// settled by src/kernels/tuning.ts.
// Rowwise q4_0 and q8_0 run a pre-pass over x first (into a scratch buffer made here) and their own "raw" kernel
// (gemv-rowwise-raw.wgsl, or with subgroups gemv-rowwise-raw-subgroup.wgsl, which shares x loads across lanes, with
// the type's gemv-raw-<type>.wgsl): code decoding and per-lane gathers, not memory bandwidth, bound them on CPU
// adapters, and x pre-scaled to meet codes masked in place leaves mask, convert and fma per element.
import commonSource from "../../shaders/gemv.wgsl?raw";
import blockSource from "../../shaders/gemv-block.wgsl?raw";
import dotSource from "../../shaders/gemm-dot.wgsl?raw";
import rowwiseSource from "../../shaders/gemv-rowwise.wgsl?raw";
import rowwisePlainSource from "../../shaders/gemv-rowwise-plain.wgsl?raw";
import rowwiseSubgroupSource from "../../shaders/gemv-rowwise-subgroup.wgsl?raw";
import rawSource from "../../shaders/gemv-raw.wgsl?raw";
import rawQ4Source from "../../shaders/gemv-raw-q4-0.wgsl?raw";
import rawQ8Source from "../../shaders/gemv-raw-q8-0.wgsl?raw";
import rowwiseRawSource from "../../shaders/gemv-rowwise-raw.wgsl?raw";
import rowwiseRawPlainSource from "../../shaders/gemv-rowwise-raw-plain.wgsl?raw";
import rowwiseRawSubgroupSource from "../../shaders/gemv-rowwise-raw-subgroup.wgsl?raw";
import rawPrepassSource from "../../shaders/gemv-raw-prepass.wgsl?raw";
import coopSource from "../../shaders/gemv-coop.wgsl?raw";
import coopSubgroupSource from "../../shaders/gemv-coop-subgroup.wgsl?raw";
import coopSharedSource from "../../shaders/gemv-coop-shared.wgsl?raw";
import type { GpuContext } from "../gpu/device.ts";
import { SkiffError } from "../errors.ts";
import { ceilDiv, combine, defineKernel, prepareKernel, type Binding, type PreparedKernel } from "./dispatch.ts";
import { activationSource, chunkBindings, weightSource, type GpuWeight } from "./weights.ts";
import { foldWorkgroups, requireBytes } from "./grid.ts";
import { defaultStyle, KERNEL_STYLES, tunedKernel, type KernelChoice, type KernelStyle } from "./tuning.ts";

/** "rowwise": barrier-free, wins on CPU adapters; "cooperative": shared work per row, wins on real GPUs. */
export type MatmulVariant = KernelStyle;

export const MATMUL_VARIANTS: readonly MatmulVariant[] = KERNEL_STYLES;

/** Rowwise on CPU implementations of WebGPU (SwiftShader, lavapipe), cooperative elsewhere. */
export function defaultMatmulVariant(ctx: GpuContext): MatmulVariant {
  return defaultStyle(ctx);
}

/** What tuning may pick from: each style at its default workgroup size first, then another size. The cooperative
 *  reduction needs a power of two; 256 threads is llama.cpp's choice for its matrix-vector kernel. */
export const GEMV_CANDIDATES: readonly KernelChoice[] = [
  { variant: "rowwise", workgroupSize: 64 },
  { variant: "cooperative", workgroupSize: 64 },
  { variant: "rowwise", workgroupSize: 128 },
  { variant: "cooperative", workgroupSize: 256 },
];

export const gemvKernel = defineKernel("gemv", commonSource, [
  ["rows", "u32"],
  ["cols", "u32"],
  ["row_offset", "u32"],
  ["grid_x", "u32"],
] as const);

/** Same params as gemvKernel (it reads only cols), so its dispatch combines with the row chunks'. */
export const gemvRawPrepassKernel = defineKernel("gemv-raw-prepass", rawPrepassSource, gemvKernel.params.fields);

/** The types with a raw rowwise kernel: their part of it, and the pre-pass's place step and zero point (codes q read
 *  in place as q * step^i, values (q - zero) * d; gemv-raw-prepass.wgsl). */
const RAW_TYPES: Partial<Record<string, { source: string; placeStep: number; zero: number }>> = {
  q4_0: { source: rawQ4Source, placeStep: 16, zero: 8 },
  q8_0: { source: rawQ8Source, placeStep: 256, zero: 128 },
};

export type GemvKernel = PreparedKernel<typeof gemvKernel.params.fields>;

export interface GemvArgs {
  weight: GpuWeight;
  /** cols f32 values. */
  x: GPUBuffer | Binding;
  /** rows f32 values. */
  out: GPUBuffer | Binding;
  /** Forces a variant (and workgroup size); by default tuning or the adapter decides. */
  variant?: MatmulVariant;
  workgroupSize?: number;
}

/** Rows per invocation (rowwise: 8, or 16 for the raw kernels, whose pre-scaled x costs as many loads per block as
 *  q4_0's codes, so more rows sharing them pays) and rows per workgroup (cooperative: 4). */
const ROWWISE_ROWS_PER_INVOCATION = 8;
const ROWWISE_RAW_ROWS_PER_INVOCATION = 16;
const COOP_ROWS = 4;
const PREPASS_WG = 64;

export function gemv(ctx: GpuContext, a: GemvArgs): Promise<GemvKernel> {
  const { weight } = a;
  const shape = `gemv-${weight.type}(rows=${weight.rows}, cols=${weight.cols})`;
  if (a.variant !== undefined && !MATMUL_VARIANTS.includes(a.variant)) {
    throw new SkiffError("bad-argument", `${shape}: unknown variant "${String(a.variant)}"`);
  }
  weightSource(weight.type, weight.cols);
  requireBytes(shape, `x (cols=${weight.cols} f32)`, a.x, weight.cols * 4);
  requireBytes(shape, `out (rows=${weight.rows} f32)`, a.out, weight.rows * 4);
  return tunedKernel(ctx, {
    key: `gemv:${weight.type}:${weight.rows}x${weight.cols}`,
    candidates: GEMV_CANDIDATES,
    requested: { variant: a.variant, workgroupSize: a.workgroupSize },
    prepare: (choice) => prepareGemv(ctx, a, choice),
  });
}

/** The joined WGSL of one (type, variant, activation alignment) and its pipeline-cache name. */
function gemvSource(ctx: GpuContext, weight: GpuWeight, variant: MatmulVariant): { source: string; name: string } {
  const w = weightSource(weight.type, weight.cols);
  const raw = rawType(weight, variant);
  if (raw) {
    const rawParts = [w.source, dotSource, commonSource, raw.source, rawSource];
    const name = `${w.name}:prepass:${variant}`;
    // `enable subgroups;` must open the module, so the subgroup entry point goes first.
    if (ctx.features.subgroups) {
      return { source: [rowwiseRawSubgroupSource, ...rawParts, rowwiseRawSource].join("\n"), name: `${name}-subgroup` };
    }
    return { source: [...rawParts, rowwiseRawSource, rowwiseRawPlainSource].join("\n"), name };
  }
  const x = activationSource(weight.cols);
  const parts = [w.source, x.source, dotSource, commonSource, blockSource];
  const name = `${w.name}:${x.name}:${variant}`;
  // `enable subgroups;` must open the module, so the subgroup entry points go first.
  if (variant === "rowwise") {
    if (ctx.features.subgroups) {
      return { source: [rowwiseSubgroupSource, ...parts, rowwiseSource].join("\n"), name: `${name}-subgroup` };
    }
    return { source: [...parts, rowwiseSource, rowwisePlainSource].join("\n"), name };
  }
  if (ctx.features.subgroups) {
    return { source: [coopSubgroupSource, ...parts, coopSource].join("\n"), name: `${name}-subgroup` };
  }
  return { source: [...parts, coopSource, coopSharedSource].join("\n"), name: `${name}-shared` };
}

/** The raw kernel's type part where this (type, variant) runs it: rowwise q4_0 and q8_0. */
function rawType(weight: GpuWeight, variant: MatmulVariant) {
  return variant === "rowwise" ? RAW_TYPES[weight.type] : undefined;
}

/** The raw kernels' pre-pass: x scaled for codes read in place, then the blocks' zero-point terms, into `xs`
 *  (cols + blocks f32). */
async function prepareRawPrepass(
  ctx: GpuContext,
  a: GemvArgs,
  raw: { placeStep: number; zero: number },
  xs: GPUBuffer,
): Promise<GemvKernel> {
  const { cols } = a.weight;
  return prepareKernel({
    ctx,
    kernel: gemvRawPrepassKernel,
    bindings: [a.x, xs],
    params: { rows: a.weight.rows, cols, row_offset: 0, grid_x: 0 },
    workgroups: [ceilDiv(cols / 32, PREPASS_WG)],
    constants: { WG: PREPASS_WG, PLACE_STEP: raw.placeStep, ZERO: raw.zero },
  });
}

async function prepareGemv(ctx: GpuContext, a: GemvArgs, choice: KernelChoice): Promise<GemvKernel> {
  const { weight } = a;
  const { variant } = choice;
  const wg = choice.workgroupSize ?? 64;
  const { source, name } = gemvSource(ctx, weight, variant);
  const raw = rawType(weight, variant);
  const rowsPerGroup = raw
    ? ROWWISE_RAW_ROWS_PER_INVOCATION * wg
    : variant === "rowwise"
      ? ROWWISE_ROWS_PER_INVOCATION * wg
      : COOP_ROWS;
  const parts: GemvKernel[] = [];
  let x = a.x;
  if (raw) {
    // Made once here, rewritten by the pre-pass at every call: cols scaled values, then cols/32 block terms,
    // padded to whole vec4s (the kernel reads the terms as vec4).
    const xs = ctx.device.createBuffer({
      label: `gemv-${weight.type}.xs(cols=${weight.cols})`,
      size: (weight.cols + ceilDiv(weight.cols / 32, 4) * 4) * 4,
      usage: GPUBufferUsage.STORAGE,
    });
    parts.push(await prepareRawPrepass(ctx, a, raw, xs));
    x = xs;
  }
  for (const chunk of weight.chunks) {
    const [gx, gy] = foldWorkgroups(ctx, ceilDiv(chunk.rows, rowsPerGroup));
    parts.push(
      await prepareKernel({
        ctx,
        kernel: gemvKernel,
        source,
        variant: name,
        bindings: [x, a.out, ...chunkBindings(chunk)],
        params: { rows: chunk.rows, cols: weight.cols, row_offset: chunk.rowStart, grid_x: gx },
        workgroups: [gx, gy],
        constants: { WG: wg },
      }),
    );
  }
  return combine(parts);
}

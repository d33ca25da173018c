// Launcher for the decode GEMV (shaders/gemv*.wgsl): out[r] = sum_k W[r, k] * x[k] for a weight of any runnable type,
// one dispatch per row chunk of the weight. Variants: "rowwise" (barrier-free, 8 rows per invocation, sharing x loads
// across subgroup lanes where the device has subgroups) and
// "cooperative" (a workgroup per four rows, reduced with subgroups when the device has them, else in workgroup memory),
// each at two workgroup sizes; which one runs is settled by src/kernels/tuning.ts.
// Rowwise q4_0 runs a pre-pass over x first (into a scratch buffer made here) and its own kernel
// (gemv-rowwise-q4-0.wgsl, or with subgroups gemv-rowwise-q4-0-subgroup.wgsl, which shares x loads across lanes):
// nibble decoding and per-lane gathers, not memory bandwidth, bound q4_0 on CPU adapters.
import commonSource from "../../shaders/gemv.wgsl?raw";
import blockSource from "../../shaders/gemv-block.wgsl?raw";
import dotSource from "../../shaders/gemm-dot.wgsl?raw";
import rowwiseSource from "../../shaders/gemv-rowwise.wgsl?raw";
import rowwisePlainSource from "../../shaders/gemv-rowwise-plain.wgsl?raw";
import rowwiseSubgroupSource from "../../shaders/gemv-rowwise-subgroup.wgsl?raw";
import q4RawSource from "../../shaders/gemv-q4-0-raw.wgsl?raw";
import rowwiseQ4Source from "../../shaders/gemv-rowwise-q4-0.wgsl?raw";
import rowwiseQ4SubgroupSource from "../../shaders/gemv-rowwise-q4-0-subgroup.wgsl?raw";
import q4PrepassSource from "../../shaders/gemv-q4-0-prepass.wgsl?raw";
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
export const gemvQ4PrepassKernel = defineKernel("gemv-q4-0-prepass", q4PrepassSource, gemvKernel.params.fields);

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

/** Rows per invocation (rowwise: 8, or 16 for q4_0, whose pre-scaled x costs as many loads per block as its codes,
 *  so more rows sharing them pays) and rows per workgroup (cooperative: 4). */
const ROWWISE_ROWS_PER_INVOCATION = 8;
const ROWWISE_Q4_ROWS_PER_INVOCATION = 16;
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
  if (usesQ4Prepass(weight, variant)) {
    const q4Parts = [w.source, dotSource, commonSource, q4RawSource];
    const name = `${w.name}:prepass:${variant}`;
    // `enable subgroups;` must open the module, so the subgroup entry point goes first.
    if (ctx.features.subgroups) {
      return { source: [rowwiseQ4SubgroupSource, ...q4Parts].join("\n"), name: `${name}-subgroup` };
    }
    return { source: [...q4Parts, rowwiseQ4Source].join("\n"), name };
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

function usesQ4Prepass(weight: GpuWeight, variant: MatmulVariant): boolean {
  return weight.type === "q4_0" && variant === "rowwise";
}

/** The q4_0 pre-pass: x scaled for in-place nibbles, then the blocks' zero-point terms, into `xs` (cols + blocks f32). */
async function prepareQ4Prepass(ctx: GpuContext, a: GemvArgs, xs: GPUBuffer): Promise<GemvKernel> {
  const { cols } = a.weight;
  return prepareKernel({
    ctx,
    kernel: gemvQ4PrepassKernel,
    bindings: [a.x, xs],
    params: { rows: a.weight.rows, cols, row_offset: 0, grid_x: 0 },
    workgroups: [ceilDiv(cols / 32, PREPASS_WG)],
    constants: { WG: PREPASS_WG },
  });
}

async function prepareGemv(ctx: GpuContext, a: GemvArgs, choice: KernelChoice): Promise<GemvKernel> {
  const { weight } = a;
  const { variant } = choice;
  const wg = choice.workgroupSize ?? 64;
  const { source, name } = gemvSource(ctx, weight, variant);
  const rowsPerGroup = usesQ4Prepass(weight, variant)
    ? ROWWISE_Q4_ROWS_PER_INVOCATION * wg
    : variant === "rowwise"
      ? ROWWISE_ROWS_PER_INVOCATION * wg
      : COOP_ROWS;
  const parts: GemvKernel[] = [];
  let x = a.x;
  if (usesQ4Prepass(weight, variant)) {
    // Made once here, rewritten by the pre-pass at every call: cols scaled values, then cols/32 block terms,
    // padded to whole vec4s (the kernel reads the terms as vec4).
    const xs = ctx.device.createBuffer({
      label: `gemv-q4_0.xs(cols=${weight.cols})`,
      size: (weight.cols + ceilDiv(weight.cols / 32, 4) * 4) * 4,
      usage: GPUBufferUsage.STORAGE,
    });
    parts.push(await prepareQ4Prepass(ctx, a, xs));
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

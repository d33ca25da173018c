// Test support for the weight kernels: random weights of any type uploaded as GPU planes, with the float64 values
// the reference must use (the GGUF bytes dequantized, so a test checks the kernel, not the quantizer). Types without
// a quantizer (K-quants) get random valid blocks.
import type { GpuContext } from "../gpu/device.ts";
import { dequantize, quantize, type WeightType } from "../loaders/ggml-quants.ts";
import { isKQuant, randomKQuantBytes } from "../loaders/k-quants.ts";
import { repack } from "../loaders/repack.ts";
import { randomF32 } from "./testing.ts";
import { uploadWeight, type GpuWeight } from "./weights.ts";
import { KernelTuner } from "./tuning.ts";

export interface WeightFixture {
  gpu: GpuWeight;
  /** rows x cols, row-major. */
  values: Float64Array;
}

export function randomWeight(
  ctx: GpuContext,
  type: WeightType,
  rows: number,
  cols: number,
  random: () => number,
  label = "w",
): WeightFixture {
  const bytes = randomWeightBytes(type, rows * cols, random);
  return {
    gpu: uploadWeight(ctx, repack(type, bytes, rows, cols, label), label),
    values: dequantize(type, bytes, rows * cols),
  };
}

/** GGUF bytes of `count` random weights of about +-`scale`: uniform floats quantized, or for types without a
 *  quantizer (K-quants) random valid blocks. */
export function randomWeightBytes(type: WeightType, count: number, random: () => number, scale = 1): Uint8Array {
  if (isKQuant(type)) return randomKQuantBytes(type, count, random, scale);
  return quantize(type, randomF32(count, random, scale));
}

/** Runs `body` with ctx.bindingLimit lowered to `bytes`, restoring it afterwards. */
export async function withBindingLimit<T>(ctx: GpuContext, bytes: number, body: () => Promise<T>): Promise<T> {
  const saved = ctx.bindingLimit;
  ctx.bindingLimit = bytes;
  try {
    return await body();
  } finally {
    ctx.bindingLimit = saved;
  }
}

/** Runs `body` with the subgroups feature switched off (the shared-memory fallbacks), restoring it afterwards. */
export async function withoutSubgroups<T>(ctx: GpuContext, body: () => Promise<T>): Promise<T> {
  const saved = ctx.features.subgroups;
  ctx.features.subgroups = false;
  try {
    return await body();
  } finally {
    ctx.features.subgroups = saved;
  }
}

/** A view of ctx whose maxComputeWorkgroupsPerDimension is `n`, so small grids exercise the 2-D fold. */
export function withMaxWorkgroups(ctx: GpuContext, n: number): GpuContext {
  const limits: Record<string, number> = {};
  const source = ctx.limits as unknown as Record<string, number>;
  for (const key in ctx.limits) limits[key] = source[key];
  limits.maxComputeWorkgroupsPerDimension = n;
  return { ...ctx, limits: limits as unknown as GPUSupportedLimits };
}

/** Runs `body` with a fresh tuner on ctx (so choices made here do not leak into other tests), then restores it. */
export async function withTuner<T>(
  ctx: GpuContext,
  setup: (t: KernelTuner) => void,
  body: () => Promise<T>,
): Promise<T> {
  const saved = ctx.tuner;
  ctx.tuner = new KernelTuner();
  setup(ctx.tuner);
  try {
    return await body();
  } finally {
    ctx.tuner = saved;
  }
}

// Test support for the weight kernels: random weights of any type uploaded as GPU planes, with the float64 values
// the reference must use (the GGUF bytes dequantized, so a test checks the kernel, not the quantizer).
import type { GpuContext } from "../gpu/device.ts";
import { dequantize, quantize, type WeightType } from "../loaders/ggml-quants.ts";
import { repack } from "../loaders/repack.ts";
import { randomF32 } from "./testing.ts";
import { uploadWeight, type GpuWeight } from "./weights.ts";

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
  const bytes = quantize(type, randomF32(rows * cols, random, 1));
  return {
    gpu: uploadWeight(ctx, repack(type, bytes, rows, cols, label), label),
    values: dequantize(type, bytes, rows * cols),
  };
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

// Launcher for shaders/rms-norm.wgsl: normalises `rows` rows of length `dim` in place or into `out`.
import source from "../../shaders/rms-norm.wgsl?raw";
import type { GpuContext } from "../gpu/device.ts";
import { SkiffError } from "../errors.ts";
import { defineKernel, prepareKernel, type Binding, type PreparedKernel } from "./dispatch.ts";

export const rmsNormKernel = defineKernel("rms-norm", source, [
  ["rows", "u32"],
  ["dim", "u32"],
  ["eps", "f32"],
] as const);

export interface RmsNormArgs {
  x: GPUBuffer | Binding;
  weight: GPUBuffer | Binding;
  out: GPUBuffer | Binding;
  rows: number;
  dim: number;
  eps: number;
}

export function rmsNorm(ctx: GpuContext, a: RmsNormArgs): Promise<PreparedKernel<typeof rmsNormKernel.params.fields>> {
  if (!(a.rows >= 1 && a.dim >= 1 && Number.isInteger(a.rows) && Number.isInteger(a.dim))) {
    throw new SkiffError("bad-shape", `rms-norm: rows=${a.rows}, dim=${a.dim} must be positive integers`);
  }
  const maxRows = ctx.limits.maxComputeWorkgroupsPerDimension;
  if (a.rows > maxRows) throw new SkiffError("bad-shape", `rms-norm: rows=${a.rows} exceeds ${maxRows}`);
  return prepareKernel({
    ctx,
    kernel: rmsNormKernel,
    bindings: [a.x, a.weight, a.out],
    params: { rows: a.rows, dim: a.dim, eps: a.eps },
    workgroups: [a.rows],
  });
}

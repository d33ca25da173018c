// Launcher for shaders/bias-add.wgsl: adds a bias vector (n) to each of `rows` rows of x (rows, n), in place. The
// graph runs it after a projection that has a bias (qwen2's q, k and v): rows = tokens in the step.
import source from "../../shaders/bias-add.wgsl?raw";
import type { GpuContext } from "../gpu/device.ts";
import { SkiffError } from "../errors.ts";
import { defineKernel, prepareKernel, type Binding, type PreparedKernel } from "./dispatch.ts";
import { linearGrid, overlaps, requireCount, requireWords } from "./grid.ts";

const WG = 256;

export const biasAddKernel = defineKernel("bias-add", source, [
  ["rows", "u32"],
  ["n", "u32"],
] as const);

export interface BiasAddArgs {
  /** (rows, n), updated in place. */
  x: GPUBuffer | Binding;
  /** (n) */
  bias: GPUBuffer | Binding;
  rows: number;
  n: number;
}

export function biasAdd(ctx: GpuContext, a: BiasAddArgs): Promise<PreparedKernel<typeof biasAddKernel.params.fields>> {
  requireCount("bias-add", "rows", a.rows);
  requireCount("bias-add", "n", a.n);
  if (a.rows * a.n >= 2 ** 32) {
    throw new SkiffError("bad-shape", `bias-add: rows=${a.rows} x n=${a.n} passes the u32 index range`);
  }
  requireWords(ctx, "bias-add", `x (rows=${a.rows}, n=${a.n})`, a.x, a.rows * a.n);
  requireWords(ctx, "bias-add", `bias (n=${a.n})`, a.bias, a.n);
  if (overlaps(a.x, a.bias)) throw new SkiffError("bad-argument", "bias-add: bias overlaps x");
  return prepareKernel({
    ctx,
    kernel: biasAddKernel,
    bindings: [a.x, a.bias],
    params: { rows: a.rows, n: a.n },
    workgroups: linearGrid(ctx, a.rows * a.n, WG),
  });
}

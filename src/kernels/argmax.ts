// Launcher for shaders/argmax.wgsl: greedy token choice, the lowest index of the largest logit in each row.
import source from "../../shaders/argmax.wgsl?raw";
import type { GpuContext } from "../gpu/device.ts";
import { SkiffError } from "../errors.ts";
import { defineKernel, prepareKernel, type Binding, type PreparedKernel } from "./dispatch.ts";
import { overlaps, requireCount, requireWords, rowWorkgroupSize } from "./grid.ts";

export const argmaxKernel = defineKernel("argmax", source, [
  ["rows", "u32"],
  ["n", "u32"],
] as const);

export interface ArgmaxArgs {
  /** (rows, n) f32 logits. */
  logits: GPUBuffer | Binding;
  /** rows u32 token ids. */
  out: GPUBuffer | Binding;
  n: number;
  /** Rows reduced independently (one per verified position when speculating); 1 by default. */
  rows?: number;
  /** Invocations per row; the default suits the adapter (see rowWorkgroupSize). */
  workgroupSize?: number;
}

export function argmax(ctx: GpuContext, a: ArgmaxArgs): Promise<PreparedKernel<typeof argmaxKernel.params.fields>> {
  const rows = a.rows ?? 1;
  requireCount("argmax", "n", a.n);
  requireCount("argmax", "rows", rows);
  const maxRows = ctx.limits.maxComputeWorkgroupsPerDimension;
  if (rows > maxRows) throw new SkiffError("bad-shape", `argmax: rows=${rows} exceeds ${maxRows}`);
  requireWords(ctx, "argmax", "logits", a.logits, rows * a.n);
  requireWords(ctx, "argmax", "out", a.out, rows);
  if (overlaps(a.out, a.logits)) throw new SkiffError("bad-argument", "argmax: out overlaps logits");
  return prepareKernel({
    ctx,
    kernel: argmaxKernel,
    bindings: [a.logits, a.out],
    params: { rows, n: a.n },
    workgroups: [rows],
    constants: { WG: rowWorkgroupSize(ctx, "argmax", a.workgroupSize) },
  });
}

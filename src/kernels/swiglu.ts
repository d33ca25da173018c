// Launcher for shaders/swiglu.wgsl: out = silu(gate) * up over n = rows * hiddenDim elements.
import source from "../../shaders/swiglu.wgsl?raw";
import type { GpuContext } from "../gpu/device.ts";
import { SkiffError } from "../errors.ts";
import { defineKernel, prepareKernel, type Binding, type PreparedKernel } from "./dispatch.ts";
import { linearGrid, overlaps, requireCount, requireWords } from "./grid.ts";

const WG = 256;

export const swigluKernel = defineKernel("swiglu", source, [["n", "u32"]] as const);

export interface SwigluArgs {
  gate: GPUBuffer | Binding;
  up: GPUBuffer | Binding;
  /** Must not overlap gate or up. */
  out: GPUBuffer | Binding;
  n: number;
}

export function swiglu(ctx: GpuContext, args: SwigluArgs): Promise<PreparedKernel<typeof swigluKernel.params.fields>> {
  requireCount("swiglu", "n", args.n);
  requireWords(ctx, "swiglu", "gate", args.gate, args.n);
  requireWords(ctx, "swiglu", "up", args.up, args.n);
  requireWords(ctx, "swiglu", "out", args.out, args.n);
  if (overlaps(args.out, args.gate) || overlaps(args.out, args.up)) {
    throw new SkiffError("bad-argument", "swiglu: out overlaps gate or up; write it to a separate range");
  }
  return prepareKernel({
    ctx,
    kernel: swigluKernel,
    bindings: [args.gate, args.up, args.out],
    params: { n: args.n },
    workgroups: linearGrid(ctx, args.n, WG),
  });
}

// Launcher for shaders/add.wgsl and shaders/add-in-place.wgsl: out = a + b over n elements; when out is the
// very range of a, the in-place shader runs (WebGPU forbids a range bound both read-only and writable).
import source from "../../shaders/add.wgsl?raw";
import inPlaceSource from "../../shaders/add-in-place.wgsl?raw";
import type { GpuContext } from "../gpu/device.ts";
import { SkiffError } from "../errors.ts";
import { defineKernel, prepareKernel, type Binding, type PreparedKernel } from "./dispatch.ts";
import { linearGrid, overlaps, requireCount, requireWords, sameRange } from "./grid.ts";

const WG = 256;

export const addKernel = defineKernel("add", source, [["n", "u32"]] as const);
export const addInPlaceKernel = defineKernel("add-in-place", inPlaceSource, [["n", "u32"]] as const);

export interface AddArgs {
  a: GPUBuffer | Binding;
  b: GPUBuffer | Binding;
  /** May be exactly `a` (same buffer, offset and size) for an in-place residual add. */
  out: GPUBuffer | Binding;
  n: number;
}

export function add(ctx: GpuContext, args: AddArgs): Promise<PreparedKernel<typeof addKernel.params.fields>> {
  requireCount("add", "n", args.n);
  requireWords(ctx, "add", "a", args.a, args.n);
  requireWords(ctx, "add", "b", args.b, args.n);
  requireWords(ctx, "add", "out", args.out, args.n);
  const inPlace = sameRange(args.out, args.a);
  if (overlaps(args.out, args.b) || (!inPlace && overlaps(args.out, args.a))) {
    throw new SkiffError("bad-argument", "add: out overlaps an input; only out === a (in place) is allowed");
  }
  const workgroups = linearGrid(ctx, args.n, WG);
  if (inPlace) {
    return prepareKernel({
      ctx,
      kernel: addInPlaceKernel,
      bindings: [args.out, args.b],
      params: { n: args.n },
      workgroups,
    });
  }
  return prepareKernel({
    ctx,
    kernel: addKernel,
    bindings: [args.a, args.b, args.out],
    params: { n: args.n },
    workgroups,
  });
}

// Launcher for shaders/ffn-residual.wgsl: the FFN's residual add x += o that also measures the cosine similarity of x
// before and after into the layer's FFN-skip state and marks the block as run.
import source from "../../shaders/ffn-residual.wgsl?raw";
import type { GpuContext } from "../gpu/device.ts";
import { SkiffError } from "../errors.ts";
import { defineKernel, prepareKernel, type Binding, type PreparedKernel } from "./dispatch.ts";
import { overlaps, requireBytes, requireCount, requireWords, rowWorkgroupSize } from "./grid.ts";
import { FFN_STATE_BYTES } from "./ffn-plan.ts";

export const ffnResidualKernel = defineKernel("ffn-residual", source, [
  ["dim", "u32"],
  ["layer", "u32"],
] as const);

export interface FfnResidualArgs {
  /** (dim) the residual stream, updated in place. */
  x: GPUBuffer | Binding;
  /** (dim) the FFN's output. */
  o: GPUBuffer | Binding;
  /** nLayers LayerState records (see ffn-plan.ts). */
  state: GPUBuffer | Binding;
  /** nLayers u32 flags. */
  ran: GPUBuffer | Binding;
  dim: number;
  layer: number;
  /** Invocations of the one workgroup; the default suits the adapter (see rowWorkgroupSize). */
  workgroupSize?: number;
}

export function ffnResidual(
  ctx: GpuContext,
  a: FfnResidualArgs,
): Promise<PreparedKernel<typeof ffnResidualKernel.params.fields>> {
  const shape = `ffn-residual(dim=${a.dim}, layer=${a.layer})`;
  requireCount(shape, "dim", a.dim);
  requireCount(shape, "layer", a.layer, 0);
  requireWords(ctx, shape, "x", a.x, a.dim);
  requireWords(ctx, shape, "o", a.o, a.dim);
  requireBytes(
    shape,
    `state (layer ${a.layer} of ${FFN_STATE_BYTES}-byte records)`,
    a.state,
    (a.layer + 1) * FFN_STATE_BYTES,
  );
  requireBytes(shape, `ran (layer ${a.layer} flag)`, a.ran, (a.layer + 1) * 4);
  if (overlaps(a.x, a.o) || overlaps(a.state, a.ran) || overlaps(a.x, a.state) || overlaps(a.x, a.ran)) {
    throw new SkiffError("bad-argument", `${shape}: x, o, state and ran must not overlap`);
  }
  return prepareKernel({
    ctx,
    kernel: ffnResidualKernel,
    bindings: [a.x, a.o, a.state, a.ran],
    params: { dim: a.dim, layer: a.layer },
    workgroups: [1],
    constants: { WG: rowWorkgroupSize(ctx, "ffn-residual", a.workgroupSize) },
  });
}

// Launcher for shaders/ffn-plan.wgsl: once per decode step, chooses the FFN blocks a token skips (from the similarities
// that ffn-residual.wgsl measured) and writes the indirect grids of the gated FFN dispatches. Also defines the
// per-layer state both kernels share and its initial value.
import source from "../../shaders/ffn-plan.wgsl?raw";
import type { GpuContext } from "../gpu/device.ts";
import { SkiffError } from "../errors.ts";
import { defineKernel, prepareKernel, type Binding, type PreparedKernel } from "./dispatch.ts";
import { overlaps, requireBytes, requireCount } from "./grid.ts";

export const ffnPlanKernel = defineKernel("ffn-plan", source, [
  ["gates", "u32"],
  ["first", "u32"],
  ["end", "u32"],
  ["cap", "u32"],
  ["recheck", "u32"],
  ["threshold", "f32"],
  ["pos", "u32"],
  ["warmup_until", "u32"],
] as const);

export type FfnPlanFields = typeof ffnPlanKernel.params.fields;

/** Bytes of one layer's state: { sim: f32, age: u32, skip: u32, pad: u32 } (WGSL `LayerState`). */
export const FFN_STATE_BYTES = 16;
/** The similarity of a layer whose FFN has not run yet: below any cosine, so it is never a candidate. */
export const UNMEASURED = -2;

/** State of `nLayers` layers before a generation: nothing measured, nothing skipped. */
export function initialFfnState(nLayers: number): ArrayBuffer {
  const buffer = new ArrayBuffer(nLayers * FFN_STATE_BYTES);
  const f = new Float32Array(buffer);
  for (let l = 0; l < nLayers; l++) f[l * 4] = UNMEASURED;
  return buffer;
}

export interface FfnPlanArgs {
  /** nLayers LayerState records (FFN_STATE_BYTES each). */
  state: GPUBuffer | Binding;
  /** The executor's gate table: nLayers + 1 dispatch offsets, then 3 u32 per gated dispatch. */
  table: GPUBuffer | Binding;
  /** 3 u32 per gated dispatch: the indirect grids written here. */
  args: GPUBuffer | Binding;
  /** nLayers u32: cleared here, set to 1 by each FFN that runs. */
  ran: GPUBuffer | Binding;
  nLayers: number;
  /** Layers [first, end) may be skipped; the others always run (and have no gated dispatches to write). */
  first: number;
  end: number;
  /** Most blocks skipped per token. */
  cap: number;
  /** A block skipped this many tokens in a row runs on the next (0: never forced). */
  recheck: number;
  threshold: number;
  /** The step's position (positional), and the first position that may skip. */
  pos: number;
  warmupUntil: number;
}

export function ffnPlan(ctx: GpuContext, a: FfnPlanArgs): Promise<PreparedKernel<FfnPlanFields>> {
  const shape = `ffn-plan(nLayers=${a.nLayers}, first=${a.first}, end=${a.end})`;
  requireCount(shape, "nLayers", a.nLayers);
  requireCount(shape, "first", a.first, 0);
  requireCount(shape, "cap", a.cap, 0);
  requireCount(shape, "recheck", a.recheck, 0);
  if (!(Number.isInteger(a.end) && a.end >= a.first && a.end <= a.nLayers)) {
    throw new SkiffError("bad-shape", `${shape}: layers [first, end) must lie within [0, nLayers)`);
  }
  if (!Number.isFinite(a.threshold)) throw new SkiffError("bad-argument", `${shape}: threshold=${a.threshold}`);
  requireBytes(shape, `state (nLayers=${a.nLayers} x ${FFN_STATE_BYTES} bytes)`, a.state, a.nLayers * FFN_STATE_BYTES);
  requireBytes(shape, `table (nLayers + 1 offsets)`, a.table, (a.nLayers + 1) * 4);
  requireBytes(shape, `ran (nLayers u32)`, a.ran, a.nLayers * 4);
  if (overlaps(a.args, a.state) || overlaps(a.args, a.ran) || overlaps(a.ran, a.state)) {
    throw new SkiffError("bad-argument", `${shape}: state, args and ran must not overlap`);
  }
  return prepareKernel({
    ctx,
    kernel: ffnPlanKernel,
    bindings: [a.state, a.table, a.args, a.ran],
    params: {
      gates: a.nLayers,
      first: a.first,
      end: a.end,
      cap: a.cap,
      recheck: a.recheck,
      threshold: a.threshold,
      pos: a.pos,
      warmup_until: a.warmupUntil,
    },
    workgroups: [1],
  });
}

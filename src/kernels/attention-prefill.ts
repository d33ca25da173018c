// Launcher for causal prefill attention over the KV cache: shaders/attention-prefill-rowwise.wgsl (one invocation
// per (token, head)) or shaders/attention-prefill-cooperative.wgsl (flash-attention tiles in workgroup memory).
import rowwiseSource from "../../shaders/attention-prefill-rowwise.wgsl?raw";
import cooperativeSource from "../../shaders/attention-prefill-cooperative.wgsl?raw";
import type { GpuContext } from "../gpu/device.ts";
import { SkiffError } from "../errors.ts";
import { ceilDiv, defineKernel, prepareKernel, type PreparedKernel } from "./dispatch.ts";
import { linearGrid, requireBytes } from "./grid.ts";
import {
  checkedUpdates,
  checkHeads,
  checkKvShape,
  checkPositions,
  requireCache,
  type AttentionBaseArgs,
  type AttentionVariant,
} from "./kv-cache.ts";
import { ATTENTION_CANDIDATES, tunedKernel } from "./tuning.ts";

export const attentionPrefillKernel = defineKernel("attention-prefill", rowwiseSource, [
  ["n_tokens", "u32"],
  ["start_pos", "u32"],
  ["n_heads", "u32"],
  ["n_kv_heads", "u32"],
  ["head_size", "u32"],
  ["capacity", "u32"],
  ["scale", "f32"],
] as const);

/** The shaders of each style; they share one Params struct and one binding list. */
export const attentionPrefillSources = { rowwise: rowwiseSource, cooperative: cooperativeSource } as const;

export type AttentionPrefillKernel = PreparedKernel<typeof attentionPrefillKernel.params.fields>;

/** Small, so even a short chunk's few row quads spread over a CPU adapter's cores. */
const ROWWISE_WG = 16;
/** Query rows per cooperative workgroup; each row gets enough threads to own at most MAX_DPT dims. */
const COOPERATIVE_BQ = 16;
const MAX_DPT = 16;
const MAX_BK = 32;
const F32 = 4;
/** SwiftShader's compile time grows with workgroup memory (measured: 0.6 s for 4 KiB, 7 s for 32 KiB) and the
 *  cooperative style is never its fast path, so CPU adapters get small tiles. */
const CPU_TILE_BYTES = 8192;

/** q and out are (nTokens, nHeads * headSize), tokens at positions startPos..startPos+nTokens-1. */
export interface AttentionPrefillArgs extends AttentionBaseArgs {
  nTokens: number;
  startPos: number;
}

/** Tile shape of the cooperative kernel for a head size, fitted to the device's workgroup memory. */
export function prefillTiles(ctx: GpuContext, headSize: number) {
  const tpr = Math.ceil(headSize / MAX_DPT);
  const dpt = Math.ceil(headSize / tpr);
  // Workgroup memory holds a K and a V tile (BK * headSize each) and the partial scores (BQ * BK * TPR).
  const budget = ctx.isCpuAdapter ? CPU_TILE_BYTES : ctx.limits.maxComputeWorkgroupStorageSize;
  const floats = Math.floor(Math.min(budget, ctx.limits.maxComputeWorkgroupStorageSize) / F32);
  const fit = Math.floor(floats / (2 * headSize + COOPERATIVE_BQ * tpr));
  const bk = Math.min(MAX_BK, fit >= 8 ? fit - (fit % 4) : fit);
  return { bq: COOPERATIVE_BQ, tpr, dpt, bk, wg: COOPERATIVE_BQ * tpr };
}

/**
 * Prepares causal attention for nTokens queries at positions startPos... `update({ start_pos, n_tokens })` reuses
 * it for the next prefill chunk, with n_tokens at most the prepared nTokens.
 */
export async function attentionPrefill(ctx: GpuContext, a: AttentionPrefillArgs): Promise<AttentionPrefillKernel> {
  const op = "attention-prefill";
  const { shape, nHeads, nTokens } = a;
  checkKvShape(op, shape);
  checkHeads(op, nHeads, shape.nKvHeads);
  checkPositions(op, shape.capacity, nTokens, a.startPos);
  const { headSize } = shape;
  const size = nTokens * nHeads * headSize * F32;
  const why = `nTokens=${nTokens}, nHeads=${nHeads}, headSize=${headSize}`;
  requireBytes(op, `q (${why})`, a.q, size);
  requireBytes(op, `out (${why})`, a.out, size);
  requireCache(op, a.cache, shape);
  // Timed with some context behind the chunk, as most chunks after the first have.
  const timedStart = Math.max(0, Math.min(shape.capacity - nTokens, 256));
  return tunedKernel(ctx, {
    key: `attentionPrefill:${nHeads}/${shape.nKvHeads}x${headSize}:${shape.capacity}`,
    candidates: ATTENTION_CANDIDATES,
    requested: { variant: a.variant },
    prepare: (choice) => prepareAttentionPrefill(ctx, a, choice.variant),
    timing: {
      before: (k) => k.update({ start_pos: timedStart, n_tokens: nTokens }),
      after: (k) => k.update({ start_pos: a.startPos, n_tokens: nTokens }),
    },
  });
}

async function prepareAttentionPrefill(
  ctx: GpuContext,
  a: AttentionPrefillArgs,
  variant: AttentionVariant,
): Promise<AttentionPrefillKernel> {
  const op = "attention-prefill";
  const { shape, nHeads, nTokens } = a;
  const { headSize } = shape;
  const why = `nTokens=${nTokens}, nHeads=${nHeads}, headSize=${headSize}`;
  const params = {
    n_tokens: nTokens,
    start_pos: a.startPos,
    n_heads: nHeads,
    n_kv_heads: shape.nKvHeads,
    head_size: headSize,
    capacity: shape.capacity,
    scale: a.scale ?? 1 / Math.sqrt(headSize),
  };
  const bindings = [a.q, a.cache.k, a.cache.v, a.out];
  const group = nHeads / shape.nKvHeads;
  let kernel: AttentionPrefillKernel;
  if (variant === "rowwise") {
    kernel = await prepareKernel({
      ctx,
      kernel: attentionPrefillKernel,
      source: rowwiseSource,
      variant,
      bindings,
      params,
      // One invocation per quad of a kv head's (token, head) rows.
      workgroups: linearGrid(ctx, ceilDiv(nTokens * group, 4) * shape.nKvHeads, ROWWISE_WG),
      constants: { WG: ROWWISE_WG },
    });
  } else {
    const tiles = prefillTiles(ctx, headSize);
    if (tiles.bk < 1 || tiles.wg > ctx.limits.maxComputeInvocationsPerWorkgroup) {
      throw new SkiffError("bad-shape", `${op}: headSize=${headSize} does not fit this device's workgroup limits`);
    }
    const rowTiles = ceilDiv(nTokens * group, tiles.bq);
    const max = ctx.limits.maxComputeWorkgroupsPerDimension;
    if (rowTiles > max) throw new SkiffError("bad-shape", `${op}: ${why} needs ${rowTiles} row tiles, over ${max}`);
    kernel = await prepareKernel({
      ctx,
      kernel: attentionPrefillKernel,
      source: cooperativeSource,
      variant,
      bindings,
      params,
      workgroups: [rowTiles, shape.nKvHeads],
      constants: { HS: headSize, BQ: tiles.bq, TPR: tiles.tpr, DPT: tiles.dpt, BK: tiles.bk },
    });
  }
  return checkedUpdates(kernel, { n_tokens: nTokens, start_pos: a.startPos }, (v) => {
    if (v.n_tokens > nTokens) {
      throw new SkiffError("bad-shape", `${op}: n_tokens=${v.n_tokens} exceeds the prepared nTokens=${nTokens}`);
    }
    checkPositions(op, shape.capacity, v.n_tokens, v.start_pos);
  });
}

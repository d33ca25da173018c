// Launcher for decode attention (one query token at position pos over the KV cache), flash-decoding style:
// shaders/attention-decode-split-{rowwise,cooperative,subgroup}.wgsl compute per-(head, split) partials, then
// shaders/attention-decode-merge.wgsl combines the splits of each head.
import rowwiseSource from "../../shaders/attention-decode-split-rowwise.wgsl?raw";
import cooperativeSource from "../../shaders/attention-decode-split-cooperative.wgsl?raw";
import subgroupSource from "../../shaders/attention-decode-split-subgroup.wgsl?raw";
import mergeSource from "../../shaders/attention-decode-merge.wgsl?raw";
import type { GpuContext } from "../gpu/device.ts";
import { SkiffError } from "../errors.ts";
import { ceilDiv, defineKernel, prepareKernel, type Binding, type PreparedKernel } from "./dispatch.ts";
import { linearGrid, requireBytes } from "./grid.ts";
import { ATTENTION_CANDIDATES, tunedKernel } from "./tuning.ts";
import {
  checkedUpdates,
  checkHeads,
  checkKvShape,
  checkPositions,
  requireCache,
  type AttentionBaseArgs,
  type AttentionVariant,
} from "./kv-cache.ts";

export const attentionDecodeSplitKernel = defineKernel("attention-decode-split", rowwiseSource, [
  ["pos", "u32"],
  ["n_heads", "u32"],
  ["n_kv_heads", "u32"],
  ["head_size", "u32"],
  ["capacity", "u32"],
  ["n_splits", "u32"],
  ["chunk_align", "u32"],
  ["scale", "f32"],
] as const);

export const attentionDecodeMergeKernel = defineKernel("attention-decode-merge", mergeSource, [
  ["n_heads", "u32"],
  ["head_size", "u32"],
  ["n_splits", "u32"],
] as const);

/** The split shaders of each style; they share one Params struct and one binding list. */
export const attentionDecodeSplitSources = {
  rowwise: rowwiseSource,
  cooperative: cooperativeSource,
  subgroup: subgroupSource,
} as const;

/** Workgroup of the cooperative split: one tile of keys; a power of two and a multiple of any subgroup size. */
const COOPERATIVE_WG = 64;
/** Head dims each cooperative thread owns (MAX_OUTS in the shader). */
const COOPERATIVE_MAX_OUTS = 4;
const ROWWISE_WG = 8;
/** Keys per unrolled block of the rowwise split: chunks are whole blocks. */
const ROWWISE_KEY_BLOCK = 16;
const MERGE_WG = 64;
const MAX_SPLITS = 64;
const F32 = 4;

/** One token: q and out are (nHeads * headSize). */
export interface AttentionDecodeArgs extends AttentionBaseArgs {
  /** The query's position; it attends to cache positions 0..pos. `update({ pos })` moves it. */
  pos: number;
  /** Cooperative only: reduce with subgroup operations. Defaults to ctx.features.subgroups. */
  subgroups?: boolean;
  /** Overrides the split count rule (`decodeSplits`). */
  nSplits?: number;
  /** Scratch for the partials, at least `decodePartialsBytes` bytes; allocated here when absent. */
  partials?: GPUBuffer | Binding;
}

export type AttentionDecodeKernel = PreparedKernel<typeof attentionDecodeSplitKernel.params.fields> & {
  nSplits: number;
};

/**
 * The split count rule, fixed by the capacity so one prepared dispatch serves every position. The shader cuts the
 * live range 0..pos into nSplits chunks of ceil((pos + 1) / nSplits) positions, rounded up to the tile (64 keys
 * cooperative, 16 rowwise), so chunks shrink with the context and trailing splits are empty while it is short.
 * - cooperative: one split per 256 positions of capacity (at most 64), so a long context spreads over
 *   nHeads * nSplits workgroups, enough to fill a large GPU, while each still scores whole 64-key tiles;
 * - rowwise: one split per 128 positions (at most 64). An invocation covers four query heads of one kv head, so
 *   at 8 kv heads a CPU adapter would otherwise get 8 invocations for its cores; on SwiftShader at context 1024,
 *   4 to 16 splits ran alike (2.4 ms) and 2 splits took twice as long.
 */
export function decodeSplits(capacity: number, variant: AttentionVariant): number {
  const per = variant === "cooperative" ? 256 : 128;
  return Math.max(1, Math.min(MAX_SPLITS, Math.ceil(capacity / per)));
}

/** Bytes of the partials: per (split, head), headSize output words, m and l. */
export function decodePartialsBytes(nHeads: number, headSize: number, nSplits: number): number {
  return nSplits * nHeads * (headSize + 2) * F32;
}

export async function attentionDecode(ctx: GpuContext, a: AttentionDecodeArgs): Promise<AttentionDecodeKernel> {
  const op = "attention-decode";
  const { shape, nHeads } = a;
  checkKvShape(op, shape);
  checkHeads(op, nHeads, shape.nKvHeads);
  checkPositions(op, shape.capacity, 1, a.pos);
  // Timed mid-context: at position 0 every variant has almost nothing to do.
  const timedPos = Math.min(shape.capacity - 1, 512);
  return tunedKernel(ctx, {
    key: `attentionDecode:${nHeads}/${shape.nKvHeads}x${shape.headSize}:${shape.capacity}`,
    candidates: ATTENTION_CANDIDATES,
    requested: { variant: a.variant },
    prepare: (choice) => prepareAttentionDecode(ctx, a, choice.variant),
    timing: { before: (k) => k.update({ pos: timedPos }), after: (k) => k.update({ pos: a.pos }) },
  });
}

async function prepareAttentionDecode(
  ctx: GpuContext,
  a: AttentionDecodeArgs,
  variant: AttentionVariant,
): Promise<AttentionDecodeKernel> {
  const op = "attention-decode";
  const { shape, nHeads } = a;
  const nSplits = a.nSplits ?? decodeSplits(shape.capacity, variant);
  if (!(Number.isInteger(nSplits) && nSplits >= 1 && nSplits <= shape.capacity)) {
    throw new SkiffError(
      "bad-argument",
      `${op}: nSplits=${nSplits} must be an integer in 1..capacity=${shape.capacity}`,
    );
  }
  const { headSize } = shape;
  const dim = nHeads * headSize;
  requireBytes(op, `q (nHeads=${nHeads}, headSize=${headSize})`, a.q, dim * F32);
  requireBytes(op, `out (nHeads=${nHeads}, headSize=${headSize})`, a.out, dim * F32);
  requireCache(op, a.cache, shape);
  const partialsBytes = decodePartialsBytes(nHeads, headSize, nSplits);
  const partials =
    a.partials ??
    ctx.device.createBuffer({ label: `${op}.partials`, size: partialsBytes, usage: GPUBufferUsage.STORAGE });
  requireBytes(op, `partials (nSplits=${nSplits}, nHeads=${nHeads})`, partials, partialsBytes);

  const cooperative = variant === "cooperative";
  const subgroups = cooperative && (a.subgroups ?? ctx.features.subgroups);
  if (subgroups && !ctx.features.subgroups) {
    throw new SkiffError("bad-argument", `${op}: subgroups were asked for, but this device lacks the feature`);
  }
  if (cooperative && headSize > COOPERATIVE_WG * COOPERATIVE_MAX_OUTS) {
    throw new SkiffError("bad-shape", `${op}: headSize=${headSize} exceeds ${COOPERATIVE_WG * COOPERATIVE_MAX_OUTS}`);
  }
  const wg = cooperative ? COOPERATIVE_WG : ROWWISE_WG;
  const max = ctx.limits.maxComputeWorkgroupsPerDimension;
  if (cooperative && (nHeads > max || nSplits > max)) {
    throw new SkiffError("bad-shape", `${op}: grid nHeads=${nHeads} x nSplits=${nSplits} exceeds ${max} per dimension`);
  }
  // Rowwise: one invocation per (split, kv head, quad of the kv head's query heads).
  const rowwiseInvocations = nSplits * shape.nKvHeads * ceilDiv(nHeads / shape.nKvHeads, 4);
  const split = await prepareKernel({
    ctx,
    kernel: attentionDecodeSplitKernel,
    source: attentionDecodeSplitSources[subgroups ? "subgroup" : variant],
    variant: subgroups ? "subgroup" : variant,
    bindings: [a.q, a.cache.k, a.cache.v, partials],
    params: {
      pos: a.pos,
      n_heads: nHeads,
      n_kv_heads: shape.nKvHeads,
      head_size: headSize,
      capacity: shape.capacity,
      n_splits: nSplits,
      chunk_align: cooperative ? COOPERATIVE_WG : ROWWISE_KEY_BLOCK,
      scale: a.scale ?? 1 / Math.sqrt(headSize),
    },
    workgroups: cooperative ? [nHeads, nSplits] : linearGrid(ctx, rowwiseInvocations, wg),
    constants: { WG: wg },
  });
  const merge = await prepareKernel({
    ctx,
    kernel: attentionDecodeMergeKernel,
    bindings: [partials, a.out],
    params: { n_heads: nHeads, head_size: headSize, n_splits: nSplits },
    workgroups: linearGrid(ctx, dim, MERGE_WG),
    constants: { WG: MERGE_WG },
  });
  const checked = checkedUpdates(split, { pos: a.pos }, (v) => checkPositions(op, shape.capacity, 1, v.pos));
  return {
    dispatches: [...split.dispatches, ...merge.dispatches],
    update: checked.update,
    nSplits,
  };
}

// The KV cache: its layout, its allocation, the launcher of shaders/kv-cache-write.wgsl, and the shape checks
// and helpers the attention launchers share.
//
// Layout, per layer: K and V are separate f32 buffers, each [nKvHeads, capacity, headSize] (head-major):
// element (kvHead, pos, i) sits at (kvHead * capacity + pos) * headSize + i. Why head-major rather than the
// token-major [capacity, nKvHeads, headSize] that the k/v activations come in:
// - one head's keys (and values) for any run of positions are one contiguous block, so an attention
//   workgroup stages a K/V tile with plain coalesced loads and a rowwise invocation streams its head's
//   keys linearly through the cache lines;
// - a head never shares cache lines with another head, so splits of different heads don't contend;
// - the price is paid once per new token, in the write kernel, which scatters nKvHeads short rows.
// The capacity is fixed when the cache is made: positions never move, so nothing is copied as a sequence grows.
import source from "../../shaders/kv-cache-write.wgsl?raw";
import type { GpuContext } from "../gpu/device.ts";
import { SkiffError } from "../errors.ts";
import type { ParamFields, ParamValues } from "../gpu/uniforms.ts";
import { defineKernel, prepareKernel, type Binding, type PreparedKernel } from "./dispatch.ts";
import { linearGrid, requireBytes } from "./grid.ts";
import type { KernelStyle } from "./tuning.ts";

export interface KvCacheShape {
  nKvHeads: number;
  /** Positions the cache holds (the longest context, prompt included). */
  capacity: number;
  headSize: number;
}

/** One layer's cache: K and V, each [nKvHeads, capacity, headSize] f32 (whole buffers or ranges of one). */
export interface KvCacheLayer {
  k: GPUBuffer | Binding;
  v: GPUBuffer | Binding;
}

export interface KvCache {
  shape: KvCacheShape;
  layers: { k: GPUBuffer; v: GPUBuffer }[];
  /** Bytes of all layers, K and V. */
  bytes: number;
  destroy(): void;
}

/** What both attention launchers take: queries and output of (tokens, nHeads * headSize), one layer's cache. */
export interface AttentionBaseArgs {
  q: GPUBuffer | Binding;
  /** Must already hold the keys and values of every position the queries attend to. */
  cache: KvCacheLayer;
  shape: KvCacheShape;
  out: GPUBuffer | Binding;
  nHeads: number;
  /** Defaults to 1 / sqrt(headSize). */
  scale?: number;
  variant?: AttentionVariant;
}

/** Attention kernels come in two styles (design.md "Measuring"); CPU adapters want the barrier-free one. */
export type AttentionVariant = KernelStyle;

/** The largest headSize the kernels hold in registers (Llama uses 64 and 128). */
export const MAX_HEAD_SIZE = 256;

const F32 = 4;
const WRITE_WG = 64;

/** Bytes of one layer's K (or V) buffer. */
export function kvCacheBufferBytes(shape: KvCacheShape): number {
  return shape.nKvHeads * shape.capacity * shape.headSize * F32;
}

/** Element offset of (kvHead, pos, 0) in one layer's K or V buffer. */
export function kvCacheOffset(shape: KvCacheShape, kvHead: number, pos: number): number {
  return (kvHead * shape.capacity + pos) * shape.headSize;
}

/** Allocates K and V for every layer, zero-filled (WebGPU clears new buffers), so unwritten positions read 0. */
export function createKvCache(ctx: GpuContext, nLayers: number, shape: KvCacheShape): KvCache {
  checkKvShape("kv-cache", shape);
  if (!(Number.isInteger(nLayers) && nLayers >= 1)) {
    throw new SkiffError("bad-shape", `kv-cache: nLayers=${nLayers} must be a positive integer`);
  }
  const size = kvCacheBufferBytes(shape);
  if (size > ctx.bindingLimit) {
    throw new SkiffError(
      "too-big-for-device",
      `kv-cache: one layer's K buffer [nKvHeads=${shape.nKvHeads}, capacity=${shape.capacity}, headSize=${shape.headSize}] ` +
        `is ${size} bytes, over this device's ${ctx.bindingLimit}-byte binding limit: lower the context length`,
    );
  }
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
  const layers: { k: GPUBuffer; v: GPUBuffer }[] = [];
  for (let l = 0; l < nLayers; l++) {
    layers.push({
      k: ctx.device.createBuffer({ label: `kv-cache.k.${l}`, size, usage }),
      v: ctx.device.createBuffer({ label: `kv-cache.v.${l}`, size, usage }),
    });
  }
  return {
    shape: { ...shape },
    layers,
    bytes: 2 * nLayers * size,
    destroy() {
      for (const layer of layers) {
        layer.k.destroy();
        layer.v.destroy();
      }
    },
  };
}

export const kvCacheWriteKernel = defineKernel("kv-cache-write", source, [
  ["n_tokens", "u32"],
  ["start_pos", "u32"],
  ["n_kv_heads", "u32"],
  ["head_size", "u32"],
  ["capacity", "u32"],
] as const);

export type KvCacheWriteKernel = PreparedKernel<typeof kvCacheWriteKernel.params.fields>;

export interface KvCacheWriteArgs {
  /** New keys and values, each (nTokens, nKvHeads * headSize). */
  k: GPUBuffer | Binding;
  v: GPUBuffer | Binding;
  cache: KvCacheLayer;
  shape: KvCacheShape;
  nTokens: number;
  startPos: number;
}

/**
 * Writes nTokens new k/v rows at positions startPos..startPos+nTokens-1. `update({ start_pos })` moves the
 * write (each decode step); `update({ n_tokens })` may shrink it below the prepared nTokens.
 */
export async function kvCacheWrite(ctx: GpuContext, a: KvCacheWriteArgs): Promise<KvCacheWriteKernel> {
  const op = "kv-cache-write";
  checkKvShape(op, a.shape);
  checkPositions(op, a.shape.capacity, a.nTokens, a.startPos);
  const kvDim = a.shape.nKvHeads * a.shape.headSize;
  requireBytes(op, `k (nTokens=${a.nTokens}, kvDim=${kvDim})`, a.k, a.nTokens * kvDim * F32);
  requireBytes(op, `v (nTokens=${a.nTokens}, kvDim=${kvDim})`, a.v, a.nTokens * kvDim * F32);
  requireCache(op, a.cache, a.shape);
  const maxTokens = a.nTokens;
  const kernel = await prepareKernel({
    ctx,
    kernel: kvCacheWriteKernel,
    bindings: [a.k, a.v, a.cache.k, a.cache.v],
    params: {
      n_tokens: a.nTokens,
      start_pos: a.startPos,
      n_kv_heads: a.shape.nKvHeads,
      head_size: a.shape.headSize,
      capacity: a.shape.capacity,
    },
    workgroups: linearGrid(ctx, a.nTokens * kvDim, WRITE_WG),
    constants: { WG: WRITE_WG },
  });
  return checkedUpdates(kernel, { n_tokens: a.nTokens, start_pos: a.startPos }, (v) => {
    if (v.n_tokens > maxTokens) {
      throw new SkiffError("bad-shape", `${op}: n_tokens=${v.n_tokens} exceeds the prepared nTokens=${maxTokens}`);
    }
    checkPositions(op, a.shape.capacity, v.n_tokens, v.start_pos);
  });
}

// ---- helpers shared by the attention launchers ----

export function checkKvShape(op: string, shape: KvCacheShape): void {
  const { nKvHeads, capacity, headSize } = shape;
  if (![nKvHeads, capacity, headSize].every((n) => Number.isInteger(n) && n >= 1)) {
    throw new SkiffError(
      "bad-shape",
      `${op}: nKvHeads=${nKvHeads}, capacity=${capacity}, headSize=${headSize} must be positive integers`,
    );
  }
  if (headSize > MAX_HEAD_SIZE) {
    throw new SkiffError("bad-shape", `${op}: headSize=${headSize} exceeds the supported ${MAX_HEAD_SIZE}`);
  }
}

/** Query heads must split evenly over the kv heads (grouped-query attention). */
export function checkHeads(op: string, nHeads: number, nKvHeads: number): void {
  if (!(Number.isInteger(nHeads) && nHeads >= 1 && nHeads % nKvHeads === 0)) {
    throw new SkiffError("bad-shape", `${op}: nHeads=${nHeads} is not a positive multiple of nKvHeads=${nKvHeads}`);
  }
}

/** Positions startPos..startPos+nTokens-1 must lie inside the cache. */
export function checkPositions(op: string, capacity: number, nTokens: number, startPos: number): void {
  if (!(Number.isInteger(nTokens) && nTokens >= 1 && Number.isInteger(startPos) && startPos >= 0)) {
    throw new SkiffError("bad-shape", `${op}: nTokens=${nTokens}, startPos=${startPos} must be integers, nTokens >= 1`);
  }
  if (startPos + nTokens > capacity) {
    throw new SkiffError(
      "bad-shape",
      `${op}: positions ${startPos}..${startPos + nTokens - 1} (startPos=${startPos}, nTokens=${nTokens}) ` +
        `do not fit the cache capacity=${capacity}`,
    );
  }
}

export function requireCache(op: string, cache: KvCacheLayer, shape: KvCacheShape): void {
  const why = `cache [nKvHeads=${shape.nKvHeads}, capacity=${shape.capacity}, headSize=${shape.headSize}]`;
  requireBytes(op, `cache.k (${why})`, cache.k, kvCacheBufferBytes(shape));
  requireBytes(op, `cache.v (${why})`, cache.v, kvCacheBufferBytes(shape));
}

/** Wraps a prepared kernel so `update` moves only the fields in `initial`, each change validated by `check`. */
export function checkedUpdates<F extends ParamFields, V extends Partial<ParamValues<F>>>(
  kernel: PreparedKernel<F>,
  initial: V,
  check: (values: V) => void,
): PreparedKernel<F> {
  let current = { ...initial };
  return {
    dispatches: kernel.dispatches,
    update(values) {
      const next = { ...current } as V;
      for (const key of Object.keys(current) as (keyof V)[]) {
        const value = (values as Partial<V>)[key];
        if (value !== undefined) next[key] = value;
      }
      check(next);
      current = next;
      // Only the tracked fields move; the rest were fixed with the grid at prepare time.
      kernel.update(next);
    },
  };
}

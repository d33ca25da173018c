// A stored model on the GPU: weights uploaded from the store, the KV cache sized from the context length, and
// the resources map that the step graphs bind by name. Memory is checked before anything is allocated.
import type { GpuContext } from "../gpu/device.ts";
import { uploadBuffer } from "../gpu/readback.ts";
import { SkiffError } from "../errors.ts";
import { destroyWeight, uploadWeight, weightBytes, type GpuWeight } from "../kernels/weights.ts";
import {
  destroySparseWeight,
  isSparseWeight,
  releaseUnusedSparsePlanes,
  uploadSparseWeight,
  type GpuSparseWeight,
} from "../kernels/sparse-weights.ts";
import { expandNM, parsePattern, sparseBytes, type SparseValueType, type SparseWeight } from "../loaders/sparse-nm.ts";
import { createKvCache, kvCacheBufferBytes, type KvCache } from "../kernels/kv-cache.ts";
import type { ModelStore, StoredTensor } from "../storage/model-store.ts";
import type { LlamaManifest } from "../storage/import-gguf.ts";
import type { WeightType } from "../loaders/ggml-quants.ts";
import { HISTORY, REPETITION_WINDOW, TOKENS, kvResource } from "../models/llama.ts";
import { ropeFreqFactors } from "../models/rope-scaling.ts";
import { mib } from "../storage/model-store.ts";

export interface GpuModel {
  manifest: LlamaManifest;
  capacity: number;
  resources: Map<string, unknown>;
  kv: KvCache;
  tokens: GPUBuffer;
  /** Ring of recent token ids for the repetition penalty. */
  history: GPUBuffer;
  /** Bytes of weights and KV cache on the GPU, with the dense copies of sparse weights that tuning chose to keep
   *  (less the sparse planes released once nothing read them). */
  readonly gpuBytes: number;
  destroy(): void;
}

export interface LoadOptions {
  /** KV cache positions; defaults to the model's context length (or sliding window), at most 4096. */
  contextLength?: number;
  /** Tokens per prefill chunk (the tokens buffer holds this many). */
  prefillChunk: number;
  /** Bytes this model may take on the GPU; defaults to what the device's limits suggest. */
  memoryBudget?: number;
  signal?: AbortSignal;
}

export function planMemory(m: LlamaManifest, capacity: number): { weights: number; kv: number } {
  const c = m.config;
  const weights = m.tensors.reduce((s, t) => s + tensorBytes(t), 0);
  const kv = 2 * c.nLayers * kvCacheBufferBytes({ nKvHeads: c.nKvHeads, capacity, headSize: c.headSize });
  return { weights, kv };
}

/** Bytes a stored tensor takes on the GPU: its planes, dense or N:M-compressed. */
function tensorBytes(t: StoredTensor): number {
  if (t.shape.length !== 2) return t.shape[0] * 4;
  const [rows, cols] = t.shape;
  if (t.sparse) return sparseBytes(parsePattern(t.sparse), t.dtype as SparseValueType, rows, cols);
  return weightBytes(t.dtype as WeightType, rows, cols);
}

export async function loadGpuModel(
  ctx: GpuContext,
  store: ModelStore,
  m: LlamaManifest,
  o: LoadOptions,
): Promise<GpuModel> {
  const c = m.config;
  const capacity = o.contextLength ?? Math.min(c.seqLen, c.slidingWindow ?? Infinity, 4096);
  if (!(Number.isInteger(capacity) && capacity >= 1)) {
    throw new SkiffError("bad-argument", `Context length ${capacity} must be a whole number of at least 1`);
  }
  if (capacity > c.seqLen) {
    throw new SkiffError(
      "bad-argument",
      `Context length ${capacity} is more than ${m.name} was trained for (${c.seqLen})`,
    );
  }
  // Within its window, sliding-window attention is plain causal attention; past it, it is not what runs here.
  if (c.slidingWindow !== undefined && capacity > c.slidingWindow) {
    throw new SkiffError(
      "unsupported-architecture",
      `Context length ${capacity} is more than ${m.name}'s sliding attention window (${c.slidingWindow}), which Skiff does not run yet; choose a context of at most ${c.slidingWindow}`,
    );
  }
  const need = planMemory(m, capacity);
  const kvBuffer = need.kv / (2 * c.nLayers);
  if (kvBuffer > ctx.bindingLimit) {
    throw new SkiffError(
      "too-big-for-device",
      `A context of ${capacity} needs KV buffers of ${mib(kvBuffer)}, more than this GPU binds at once (${mib(ctx.bindingLimit)}); choose a shorter context`,
    );
  }
  const budget = o.memoryBudget ?? ctx.limits.maxBufferSize * 4;
  if (need.weights + need.kv > budget) {
    throw new SkiffError(
      "too-big-for-device",
      `${m.name} needs ${mib(need.weights)} of weights and ${mib(need.kv)} of KV cache, more than the ${mib(budget)} this device allows; choose a shorter context or a smaller model`,
    );
  }
  const resources = new Map<string, unknown>();
  const owned: { destroy(): void }[] = [];
  try {
    for (const t of m.tensors) {
      if (o.signal?.aborted) throw new SkiffError("aborted", "Loading was cancelled");
      resources.set(t.name, await uploadTensor(ctx, store, m.id, t, owned));
    }
    // The rope kernels read one set of divisors: the stored ones, those the RoPE scaling metadata makes, or none.
    const freqFactors = ropeFreqFactors(c, resources.get("ropeFreqs") as Float32Array | undefined);
    if (freqFactors) resources.set("ropeFreqs", freqFactors);
    const kv = createKvCache(ctx, c.nLayers, { nKvHeads: c.nKvHeads, capacity, headSize: c.headSize });
    owned.push(kv);
    kv.layers.forEach((layer, l) => resources.set(kvResource(l), layer));
    const tokens = ctx.device.createBuffer({
      label: "tokens",
      size: Math.max(16, o.prefillChunk * 4),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    owned.push(tokens);
    resources.set(TOKENS, tokens);
    const history = ctx.device.createBuffer({
      label: "history",
      size: REPETITION_WINDOW * 4,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    owned.push(history);
    resources.set(HISTORY, history);
    return {
      manifest: m,
      capacity,
      resources,
      kv,
      tokens,
      history,
      get gpuBytes() {
        let bytes = need.weights + need.kv;
        for (const w of resources.values()) {
          if (!isSparseWeight(w)) continue;
          if (w.dense) bytes += weightBytes(w.dense.type, w.dense.rows, w.dense.cols);
          if (w.chunks.length === 0) bytes -= sparseBytes(w.pattern, w.type, w.rows, w.cols);
        }
        return bytes;
      },
      destroy: () => owned.forEach((x) => x.destroy()),
    };
  } catch (e) {
    owned.forEach((x) => x.destroy());
    throw e;
  }
}

async function uploadTensor(
  ctx: GpuContext,
  store: ModelStore,
  id: string,
  t: StoredTensor,
  owned: { destroy(): void }[],
): Promise<GpuWeight | GpuSparseWeight | GPUBuffer | Float32Array> {
  if (t.shape.length === 1) {
    const values = await store.readPlane(id, t, "values");
    // RoPE frequency factors are folded into a table on the CPU when the rope kernel is prepared.
    if (t.name === "ropeFreqs") return new Float32Array(values.buffer, values.byteOffset, values.byteLength / 4);
    const buffer = uploadBuffer(ctx.device, values, t.name);
    owned.push(buffer);
    return buffer;
  }
  if (t.sparse) return uploadSparseTensor(ctx, store, id, t, owned);
  const codes = await store.readPlane(id, t, "codes");
  const scales = t.planes.scales ? await store.readPlane(id, t, "scales") : undefined;
  const weight = uploadWeight(
    ctx,
    {
      type: t.dtype as WeightType,
      rows: t.shape[0],
      cols: t.shape[1],
      codes: new Uint32Array(codes.buffer, codes.byteOffset, codes.byteLength / 4),
      scales: scales && new Uint32Array(scales.buffer, scales.byteOffset, scales.byteLength / 4),
    },
    t.name,
  );
  owned.push({ destroy: () => destroyWeight(weight) });
  return weight;
}

/** A matrix stored N:M-compressed (import found its zeros in an exact pattern): the sparse kernels' planes. */
async function uploadSparseTensor(
  ctx: GpuContext,
  store: ModelStore,
  id: string,
  t: StoredTensor,
  owned: { destroy(): void }[],
): Promise<GpuSparseWeight> {
  const words = async (plane: string) => {
    const bytes = await store.readPlane(id, t, plane);
    return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  };
  const planes: SparseWeight = {
    pattern: parsePattern(t.sparse!),
    type: t.dtype as SparseValueType,
    rows: t.shape[0],
    cols: t.shape[1],
    positions: await words("positions"),
    values: await words("values"),
    scales: t.planes.scales ? await words("scales") : undefined,
  };
  const weight = uploadSparseWeight(ctx, planes, t.name);
  // Tuning may find the dense kernels faster for this tensor on this device (sparse-matmul.ts).
  weight.expand = () => uploadWeight(ctx, expandNM(planes), `${t.name}.dense`);
  owned.push({ destroy: () => destroySparseWeight(weight) });
  return weight;
}

/**
 * After the steps are made: frees the sparse planes of every weight whose ops all chose its dense copy, and the CPU
 * planes that `expand` holds once a dense copy exists (later steps reuse that copy).
 */
export function releaseUnusedSparse(gpu: GpuModel): void {
  for (const r of gpu.resources.values()) {
    if (!isSparseWeight(r)) continue;
    releaseUnusedSparsePlanes(r);
    if (r.dense) r.expand = undefined;
  }
}

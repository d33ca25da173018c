// Imports a GGUF (File, Blob or URL) into the model store: validate everything first, then repack each
// tensor for the kernels and write it in chunks, reporting progress; abort or failure leaves nothing listed.
import { SkiffError } from "../errors.ts";
import { readGgufHeader, type GgufHeader, type GgufTensorInfo } from "../loaders/gguf.ts";
import { llamaConfigFromGguf, llamaTensorMap } from "../loaders/gguf-llama.ts";
import { ggmlTypeName, GGML_TYPE, weightTypeOf } from "../loaders/ggml-types.ts";
import { repack, type PackedWeight } from "../loaders/repack.ts";
import { compressPackedNM, detectPackedNM, patternName } from "../loaders/sparse-nm.ts";
import { WEIGHT_TYPES } from "../loaders/ggml-quants.ts";
import { tokenizerSpecFromGguf, type TokenizerSpec } from "../tokenizer/tokenizer.ts";
import type { LlamaConfig } from "../models/llama-config.ts";
import { ModelStore, type ModelManifest } from "./model-store.ts";

export interface ImportProgress {
  phase: "download" | "store";
  bytesDone: number;
  bytesTotal: number;
  tensorsDone: number;
  tensorsTotal: number;
}

export interface ImportOptions {
  id?: string;
  name?: string;
  signal?: AbortSignal;
  onProgress?: (p: ImportProgress) => void;
  /**
   * Store matrices whose zeros already form an exact N:M pattern (a pruned model, zeros written out) compressed, so
   * the sparse kernels run them (default true). The embedding table always stays dense: it is read by rows.
   */
  sparse?: boolean;
}

export type LlamaManifest = ModelManifest<LlamaConfig, TokenizerSpec>;

/** Stored tensor names: roles, not GGUF names, so loading never needs to know the file format. */
export function tensorPlan(h: GgufHeader, config: LlamaConfig): [string, GgufTensorInfo][] {
  const map = llamaTensorMap(h, config);
  const plan: [string, GgufTensorInfo][] = [
    ["tokenEmbedding", map.tokenEmbedding],
    ["outputNorm", map.outputNorm],
  ];
  if (!config.tiedOutput) plan.push(["output", map.output]);
  if (map.ropeFreqs) plan.push(["ropeFreqs", map.ropeFreqs]);
  map.layers.forEach((layer, l) => {
    for (const [role, info] of Object.entries(layer)) plan.push([`layers.${l}.${role}`, info]);
  });
  return plan;
}

const SUPPORTED_TYPES = WEIGHT_TYPES.map((t) => t.toUpperCase()).join(", ");

/** Everything that can be refused before a byte is written: architecture, tokenizer, tensor types. */
export function validateGguf(h: GgufHeader): {
  config: LlamaConfig;
  tokenizer: TokenizerSpec;
  plan: [string, GgufTensorInfo][];
} {
  const config = llamaConfigFromGguf(h);
  const tokenizer = tokenizerSpecFromGguf(h);
  const plan = tensorPlan(h, config);
  for (const [, info] of plan) {
    if (weightTypeOf(info.type) === undefined) {
      throw new SkiffError(
        "unsupported-type",
        `Tensor ${info.name} is ${ggmlTypeName(info.type)}, which Skiff cannot run yet (supported: ${SUPPORTED_TYPES})`,
      );
    }
    if (info.dims.length === 1 && info.type !== GGML_TYPE.F32) {
      throw new SkiffError(
        "unsupported-type",
        `Vector tensor ${info.name} is ${ggmlTypeName(info.type)}; Skiff expects F32`,
      );
    }
  }
  return { config, tokenizer, plan };
}

export async function importGguf(
  store: ModelStore,
  source: Blob | string,
  options: ImportOptions = {},
): Promise<LlamaManifest> {
  const { signal, onProgress } = options;
  const name =
    options.name ??
    (typeof source === "string"
      ? source.split("/").pop() || source
      : "name" in source
        ? (source as File).name
        : "model.gguf");
  const blob = typeof source === "string" ? await download(source, signal, onProgress) : source;
  throwIfAborted(signal);
  const header = await readGgufHeader(blob);
  const { config, tokenizer, plan } = validateGguf(header);
  const id = options.id ?? `${name.replace(/\.gguf$/i, "").replace(/[^\w.-]+/g, "-")}-${blob.size}`;
  const totalBytes = plan.reduce((s, [, t]) => s + t.byteSize, 0);
  const writer = await store.beginImport<LlamaConfig, TokenizerSpec>(
    { id, name, source: typeof source === "string" ? source : name, config, tokenizer },
    // Repacked planes are about the GGUF's size (f16 scales kept packed), plus slack for IndexedDB.
    Math.ceil(totalBytes * 1.1),
  );
  let bytesDone = 0;
  try {
    for (let i = 0; i < plan.length; i++) {
      throwIfAborted(signal);
      const [role, info] = plan[i];
      const bytes = new Uint8Array(await blob.slice(info.offset, info.offset + info.byteSize).arrayBuffer());
      if (bytes.byteLength !== info.byteSize) {
        throw new SkiffError(
          "bad-gguf",
          `GGUF is truncated: tensor ${info.name} is short of ${info.byteSize - bytes.byteLength} bytes`,
        );
      }
      const type = weightTypeOf(info.type)!;
      if (info.dims.length === 1) {
        await writer.addTensor({ name: role, dtype: "f32", shape: [info.dims[0]] }, { values: bytes });
      } else {
        const [cols, rows] = info.dims;
        const packed = repack(type, bytes, rows, cols, info.name);
        const sparse =
          options.sparse !== false && role !== "tokenEmbedding" ? sparseTensor(packed, info.name) : undefined;
        await writer.addTensor(
          { name: role, dtype: type, shape: [rows, cols], ...(sparse && { sparse: sparse.pattern }) },
          sparse?.planes ?? densePlanes(packed),
        );
      }
      bytesDone += info.byteSize;
      onProgress?.({
        phase: "store",
        bytesDone,
        bytesTotal: totalBytes,
        tensorsDone: i + 1,
        tensorsTotal: plan.length,
      });
    }
    throwIfAborted(signal);
    return await writer.finish();
  } catch (e) {
    await writer.discard();
    throw e;
  }
}

function densePlanes(packed: PackedWeight): Record<string, Uint8Array> {
  const planes: Record<string, Uint8Array> = { codes: asBytes(packed.codes) };
  if (packed.scales) planes.scales = asBytes(packed.scales);
  return planes;
}

/** The N:M-compressed planes of a matrix whose zeros form a runnable pattern exactly, else undefined. */
function sparseTensor(
  packed: PackedWeight,
  name: string,
): { pattern: string; planes: Record<string, Uint8Array> } | undefined {
  const pattern = detectPackedNM(packed);
  if (!pattern) return undefined;
  const w = compressPackedNM(packed, pattern, name);
  const planes: Record<string, Uint8Array> = { positions: asBytes(w.positions), values: asBytes(w.values) };
  if (w.scales) planes.scales = asBytes(w.scales);
  return { pattern: patternName(pattern), planes };
}

function asBytes(words: Uint32Array): Uint8Array {
  return new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new SkiffError("aborted", "The import was cancelled; nothing was kept");
}

async function download(url: string, signal?: AbortSignal, onProgress?: (p: ImportProgress) => void): Promise<Blob> {
  let response: Response;
  try {
    response = await fetch(url, { signal });
  } catch (e) {
    if (signal?.aborted) throwIfAborted(signal);
    throw new SkiffError("bad-argument", `Could not download ${url}: ${String(e)}`);
  }
  if (!response.ok || !response.body)
    throw new SkiffError("bad-argument", `Could not download ${url}: HTTP ${response.status}`);
  const total = Number(response.headers.get("content-length") ?? 0);
  const parts: Uint8Array[] = [];
  let done = 0;
  const reader = response.body.getReader();
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch (e) {
      if (signal?.aborted) throwIfAborted(signal);
      throw new SkiffError("bad-argument", `Download of ${url} failed: ${String(e)}`);
    }
    if (chunk.done) break;
    parts.push(chunk.value);
    done += chunk.value.byteLength;
    onProgress?.({ phase: "download", bytesDone: done, bytesTotal: total || done, tensorsDone: 0, tensorsTotal: 0 });
  }
  if (total && done !== total)
    throw new SkiffError("bad-gguf", `Download of ${url} ended after ${done} of ${total} bytes`);
  return new Blob(parts as BlobPart[]);
}

// Llama-family GGUF files: config from metadata, and the translation of GGUF tensor names to weight roles.
// The only place that knows `blk.N.attn_q` and friends.
import { SkiffError } from "../errors.ts";
import type { GgufHeader, GgufTensorInfo } from "./gguf.ts";
import { metaNumber, metaString } from "./gguf.ts";
import { LAYER_WEIGHTS, type LayerWeightName, type LlamaConfig, type RopeLayout } from "../models/llama-config.ts";

const ROPE_LAYOUT: Record<string, RopeLayout> = { llama: "adjacent" };

const GGUF_LAYER_NAMES: Record<LayerWeightName, string> = {
  attnNorm: "attn_norm",
  wq: "attn_q",
  wk: "attn_k",
  wv: "attn_v",
  wo: "attn_output",
  ffnNorm: "ffn_norm",
  wGate: "ffn_gate",
  wUp: "ffn_up",
  wDown: "ffn_down",
};

export interface LlamaTensorMap {
  tokenEmbedding: GgufTensorInfo;
  layers: Record<LayerWeightName, GgufTensorInfo>[];
  outputNorm: GgufTensorInfo;
  /** The token embedding when the file has no `output.weight` (tied classifier). */
  output: GgufTensorInfo;
  ropeFreqs?: GgufTensorInfo;
}

export function llamaConfigFromGguf(h: GgufHeader): LlamaConfig {
  const architecture = metaString(h, "general.architecture");
  const ropeLayout = ROPE_LAYOUT[architecture];
  if (!ropeLayout) {
    throw new SkiffError(
      "unsupported-architecture",
      `Architecture "${architecture}" is not supported yet (Skiff runs: ${Object.keys(ROPE_LAYOUT).join(", ")})`,
    );
  }
  const a = (key: string, fallback?: number) => metaNumber(h, `${architecture}.${key}`, fallback);
  const dim = a("embedding_length");
  const nHeads = a("attention.head_count");
  const nKvHeads = a("attention.head_count_kv", nHeads);
  const headSize = a("attention.key_length", dim / nHeads);
  const tokens = h.metadata.get("tokenizer.ggml.tokens");
  const embd = h.tensors.find((t) => t.name === "token_embd.weight");
  const vocabSize = a("vocab_size", Array.isArray(tokens) ? tokens.length : (embd?.dims[1] ?? 0));
  const config: LlamaConfig = {
    architecture,
    dim,
    hiddenDim: a("feed_forward_length"),
    nLayers: a("block_count"),
    nHeads,
    nKvHeads,
    headSize,
    kvDim: nKvHeads * headSize,
    vocabSize,
    seqLen: a("context_length", 2048),
    normEps: a("attention.layer_norm_rms_epsilon", 1e-5),
    ropeTheta: a("rope.freq_base", 10000),
    nRot: a("rope.dimension_count", headSize),
    ropeLayout,
    tiedOutput: !h.tensors.some((t) => t.name === "output.weight"),
  };
  const bad = Object.entries(config).filter(([, v]) => typeof v === "number" && !(v > 0 && Number.isFinite(v)));
  if (bad.length)
    throw new SkiffError("bad-gguf", `GGUF metadata gives invalid ${bad.map(([k, v]) => `${k}=${v}`).join(", ")}`);
  if (nHeads % nKvHeads !== 0) {
    throw new SkiffError(
      "bad-gguf",
      `GGUF metadata: head_count ${nHeads} is not a multiple of head_count_kv ${nKvHeads}`,
    );
  }
  if (headSize * nHeads !== dim) {
    throw new SkiffError(
      "unsupported-architecture",
      `head size ${headSize} x ${nHeads} heads differs from embedding length ${dim}`,
    );
  }
  if (config.nRot > headSize || config.nRot % 2 !== 0) {
    throw new SkiffError(
      "bad-gguf",
      `GGUF metadata: rope.dimension_count ${config.nRot} must be even and at most ${headSize}`,
    );
  }
  return config;
}

/** Finds every weight the Llama graph needs, checking each one's shape against the config. */
export function llamaTensorMap(h: GgufHeader, c: LlamaConfig): LlamaTensorMap {
  const byName = new Map(h.tensors.map((t) => [t.name, t]));
  const get = (name: string, dims: number[]): GgufTensorInfo => {
    const t = byName.get(name);
    if (!t) throw new SkiffError("bad-gguf", `GGUF is missing tensor ${name}`);
    const got = t.dims.filter((d, i) => i < dims.length || d !== 1);
    if (got.length !== dims.length || got.some((d, i) => d !== dims[i])) {
      throw new SkiffError("bad-gguf", `Tensor ${name} has shape [${t.dims}], expected [${dims}]`);
    }
    return t;
  };
  const { dim, hiddenDim, kvDim, vocabSize } = c;
  const shapes: Record<LayerWeightName, number[]> = {
    attnNorm: [dim],
    wq: [dim, dim],
    wk: [dim, kvDim],
    wv: [dim, kvDim],
    wo: [dim, dim],
    ffnNorm: [dim],
    wGate: [dim, hiddenDim],
    wUp: [dim, hiddenDim],
    wDown: [hiddenDim, dim],
  };
  const layers = Array.from({ length: c.nLayers }, (_, l) => {
    const entries = LAYER_WEIGHTS.map((role) => [role, get(`blk.${l}.${GGUF_LAYER_NAMES[role]}.weight`, shapes[role])]);
    return Object.fromEntries(entries) as Record<LayerWeightName, GgufTensorInfo>;
  });
  const tokenEmbedding = get("token_embd.weight", [dim, vocabSize]);
  const ropeFreqs = byName.has("rope_freqs.weight") ? get("rope_freqs.weight", [c.nRot / 2]) : undefined;
  return {
    tokenEmbedding,
    layers,
    outputNorm: get("output_norm.weight", [dim]),
    output: c.tiedOutput ? tokenEmbedding : get("output.weight", [dim, vocabSize]),
    ropeFreqs,
  };
}

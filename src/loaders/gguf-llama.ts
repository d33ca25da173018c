// Llama-family GGUF files (`llama`, `qwen2`): config from metadata, and the translation of GGUF tensor names to
// weight roles. The only place that knows `blk.N.attn_q` and friends.
import { SkiffError } from "../errors.ts";
import type { GgufHeader, GgufTensorInfo } from "./gguf.ts";
import { metaNumber, metaString } from "./gguf.ts";
import {
  LAYER_BIASES,
  LAYER_WEIGHTS,
  type LayerBiasName,
  type LayerWeightName,
  type LlamaConfig,
  type RopeLayout,
  type RopeScaling,
} from "../models/llama-config.ts";

/** Architectures Skiff runs, with the pairs their RoPE rotates (llama.cpp's NORM for `llama`, NEOX for `qwen2`). */
const ROPE_LAYOUT: Record<string, RopeLayout> = { llama: "adjacent", qwen2: "halves" };

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

const GGUF_BIAS_NAMES: Record<LayerBiasName, string> = {
  bq: "attn_q.bias",
  bk: "attn_k.bias",
  bv: "attn_v.bias",
  bo: "attn_output.bias",
};

export type LayerTensors = Record<LayerWeightName, GgufTensorInfo> & Partial<Record<LayerBiasName, GgufTensorInfo>>;

export interface LlamaTensorMap {
  tokenEmbedding: GgufTensorInfo;
  layers: LayerTensors[];
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
  const biases = LAYER_BIASES.filter((role) =>
    h.tensors.some((t) => t.name.startsWith("blk.") && t.name.endsWith(`.${GGUF_BIAS_NAMES[role]}`)),
  );
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
  if (biases.length) config.biases = biases;
  const ropeScaling = ropeScalingFromGguf(h, architecture);
  if (ropeScaling) config.ropeScaling = ropeScaling;
  if (h.metadata.has(`${architecture}.attention.sliding_window`)) {
    config.slidingWindow = a("attention.sliding_window");
  }
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

/**
 * `{arch}.rope.scaling.*`: absent or "none" is no scaling; "linear" (or a factor with no type, as llama.cpp
 * reads it, or the old `rope.scale_linear`) divides every frequency; "llama3" (or low/high frequency factors
 * with no type) is Llama 3.1's banded scaling, with convert_hf_to_gguf.py's defaults for missing keys.
 */
function ropeScalingFromGguf(h: GgufHeader, arch: string): RopeScaling | undefined {
  const key = (k: string) => `${arch}.rope.scaling.${k}`;
  const num = (k: string, fallback: number) => metaNumber(h, key(k), fallback);
  const has = (k: string) => h.metadata.has(key(k));
  let type = metaString(h, key("type"), "");
  if (!type && (has("low_freq_factor") || has("high_freq_factor"))) type = "llama3";
  if (!type && (has("factor") || h.metadata.has(`${arch}.rope.scale_linear`))) type = "linear";
  const positive = (name: string, v: number) => {
    if (!(v > 0 && Number.isFinite(v))) {
      throw new SkiffError("bad-gguf", `GGUF metadata ${key(name)} = ${v} must be a finite number > 0`);
    }
    return v;
  };
  switch (type) {
    case "":
    case "none":
      return undefined;
    case "linear": {
      const factor = positive("factor", num("factor", metaNumber(h, `${arch}.rope.scale_linear`, 1)));
      return factor === 1 ? undefined : { type: "linear", factor };
    }
    case "llama3": {
      const s: RopeScaling = {
        type: "llama3",
        factor: positive("factor", num("factor", 8)),
        lowFreqFactor: positive("low_freq_factor", num("low_freq_factor", 1)),
        highFreqFactor: positive("high_freq_factor", num("high_freq_factor", 4)),
        originalContextLength: positive("original_context_length", num("original_context_length", 8192)),
      };
      if (s.lowFreqFactor >= s.highFreqFactor) {
        throw new SkiffError(
          "bad-gguf",
          `GGUF metadata: llama3 RoPE scaling needs low_freq_factor ${s.lowFreqFactor} < high_freq_factor ${s.highFreqFactor}`,
        );
      }
      return s;
    }
    default:
      throw new SkiffError(
        "unsupported-architecture",
        `RoPE scaling "${type}" (${key("type")}) is not supported yet (Skiff runs: none, linear, llama3)`,
      );
  }
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
  const biasShapes: Record<LayerBiasName, number[]> = { bq: [dim], bk: [kvDim], bv: [kvDim], bo: [dim] };
  const known = new Set<string>();
  const layers = Array.from({ length: c.nLayers }, (_, l) => {
    const entries: [string, GgufTensorInfo][] = LAYER_WEIGHTS.map((role) => [
      role,
      get(`blk.${l}.${GGUF_LAYER_NAMES[role]}.weight`, shapes[role]),
    ]);
    for (const role of c.biases ?? []) entries.push([role, get(`blk.${l}.${GGUF_BIAS_NAMES[role]}`, biasShapes[role])]);
    entries.forEach(([, t]) => known.add(t.name));
    return Object.fromEntries(entries) as LayerTensors;
  });
  // A layer tensor the graph has no place for (an FFN bias, MoE experts, a norm of another design) would be
  // silently skipped and the output wrong: refuse the file instead.
  const stray = h.tensors.find((t) => t.name.startsWith("blk.") && !known.has(t.name));
  if (stray) {
    throw new SkiffError(
      "unsupported-architecture",
      `Tensor ${stray.name} has no place in the ${c.architecture} graph Skiff runs (a variant it does not support yet)`,
    );
  }
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

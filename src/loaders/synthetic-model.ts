// Writes Llama-family GGUF files (`llama`, `qwen2`) of any shape and weight type from seeded random weights, so
// every architecture and type has a test model without a download.
import { writeGguf, type GgufWriteInput, type GgufWriteTensor, type GgufWriteValue } from "./gguf-writer.ts";
import { quantize, type WeightType } from "./ggml-quants.ts";
import { GGML_TYPE, WEIGHT_TYPE_IDS, ggmlType } from "./ggml-types.ts";
import type { RopeScaling } from "../models/llama-config.ts";

export interface SyntheticLlamaOptions {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  /** At least 259: <unk>, <s>, </s> and the 256 byte tokens come first. */
  vocabSize: number;
  seqLen: number;
  /** Type of every 2-D weight, any `quantize` can write (rows that are not whole blocks of it stay F32). */
  type: WeightType;
  /** Per-tensor types by GGUF name, over `type` (a mixed file such as llama.cpp's Q4_K_M); rows that are not whole
   *  blocks of the chosen type take `fallbackType` when they are whole blocks of it, else F32. */
  tensorType?: (name: string) => WeightType | undefined;
  fallbackType?: WeightType;
  seed: number;
  tiedOutput?: boolean;
  architecture?: string;
  ropeTheta?: number;
  headSize?: number;
  /** Write Llama 3.1-style `rope_freqs.weight` (one divisor per rotated pair). */
  ropeFreqs?: boolean;
  /** `rope.dimension_count`: rotate only the first nRot dims of each head. */
  nRot?: number;
  /** Write `blk.N.attn_{q,k,v}.bias` (as qwen2 has); defaults to true for `qwen2`, false otherwise. */
  biases?: boolean;
  /** Write `{arch}.rope.scaling.*` metadata (with no `rope_freqs` tensor unless `ropeFreqs` asks for it too). */
  ropeScaling?: RopeScaling;
  /** `{arch}.attention.sliding_window` (Mistral-style). */
  slidingWindow?: number;
  /** Metadata written after the defaults, replacing any entry of the same key (e.g. another tokenizer's). */
  metadata?: GgufWriteInput["metadata"];
}

function gaussian(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

export function syntheticVocab(vocabSize: number): string[] {
  const tokens = ["<unk>", "<s>", "</s>"];
  for (let b = 0; b < 256; b++) tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
  for (let i = 0; tokens.length < vocabSize; i++) tokens.push(`\u2581w${i}`);
  return tokens;
}

export function syntheticLlamaGguf(o: SyntheticLlamaOptions): Uint8Array {
  const arch = o.architecture ?? "llama";
  const headSize = o.headSize ?? o.dim / o.nHeads;
  const qDim = o.nHeads * headSize;
  const kvDim = o.nKvHeads * headSize;
  const normal = gaussian(o.seed);
  const blockSize = (t: WeightType) => ggmlType(WEIGHT_TYPE_IDS[t])?.blockSize ?? 1;
  const typeFor = (name: string, cols: number): WeightType => {
    const wanted = o.tensorType?.(name) ?? o.type;
    if (cols % blockSize(wanted) === 0) return wanted;
    return o.fallbackType && cols % blockSize(o.fallbackType) === 0 ? o.fallbackType : "f32";
  };
  const biases = o.biases ?? arch === "qwen2";
  const tensors: GgufWriteTensor[] = [];
  const matrix = (name: string, rows: number, cols: number) => {
    const values = new Float32Array(rows * cols);
    const scale = 1 / Math.sqrt(cols);
    for (let i = 0; i < values.length; i++) values[i] = normal() * scale;
    const type = typeFor(name, cols);
    tensors.push({ name, dims: [cols, rows], type: WEIGHT_TYPE_IDS[type], data: quantize(type, values) });
  };
  const vector = (name: string, n: number, mean: number, spread: number) => {
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = mean + spread * normal();
    tensors.push({ name, dims: [n], type: GGML_TYPE.F32, data: new Uint8Array(values.buffer) });
  };
  const norm = (name: string, n: number) => vector(name, n, 1, 0.1);
  // Biases about as large as the projections' outputs, so that a lost bias shows in the logits.
  const bias = (name: string, n: number) => biases && vector(name, n, 0, 0.5);
  matrix("token_embd.weight", o.vocabSize, o.dim);
  for (let l = 0; l < o.nLayers; l++) {
    norm(`blk.${l}.attn_norm.weight`, o.dim);
    matrix(`blk.${l}.attn_q.weight`, qDim, o.dim);
    bias(`blk.${l}.attn_q.bias`, qDim);
    matrix(`blk.${l}.attn_k.weight`, kvDim, o.dim);
    bias(`blk.${l}.attn_k.bias`, kvDim);
    matrix(`blk.${l}.attn_v.weight`, kvDim, o.dim);
    bias(`blk.${l}.attn_v.bias`, kvDim);
    matrix(`blk.${l}.attn_output.weight`, o.dim, qDim);
    norm(`blk.${l}.ffn_norm.weight`, o.dim);
    matrix(`blk.${l}.ffn_gate.weight`, o.hiddenDim, o.dim);
    matrix(`blk.${l}.ffn_up.weight`, o.hiddenDim, o.dim);
    matrix(`blk.${l}.ffn_down.weight`, o.dim, o.hiddenDim);
  }
  norm("output_norm.weight", o.dim);
  if (o.ropeFreqs) {
    const pairs = (o.nRot ?? headSize) / 2;
    // Divisors rising from 1 to 8 across the pairs, like Llama 3's long-wavelength scaling.
    const factors = Float32Array.from({ length: pairs }, (_, i) => 1 + (7 * i) / Math.max(1, pairs - 1));
    tensors.push({
      name: "rope_freqs.weight",
      dims: [pairs],
      type: GGML_TYPE.F32,
      data: new Uint8Array(factors.buffer),
    });
  }
  if (!o.tiedOutput) matrix("output.weight", o.vocabSize, o.dim);
  const tokens = syntheticVocab(o.vocabSize);
  const metadata: GgufWriteInput["metadata"] = [
    ["general.architecture", { type: "string", value: arch }],
    ["general.name", { type: "string", value: `synthetic-${arch}-${o.type}` }],
    [`${arch}.block_count`, { type: "u32", value: o.nLayers }],
    [`${arch}.embedding_length`, { type: "u32", value: o.dim }],
    [`${arch}.feed_forward_length`, { type: "u32", value: o.hiddenDim }],
    [`${arch}.context_length`, { type: "u32", value: o.seqLen }],
    [`${arch}.attention.head_count`, { type: "u32", value: o.nHeads }],
    [`${arch}.attention.head_count_kv`, { type: "u32", value: o.nKvHeads }],
    [`${arch}.attention.layer_norm_rms_epsilon`, { type: "f32", value: 1e-5 }],
    [`${arch}.rope.freq_base`, { type: "f32", value: o.ropeTheta ?? 10000 }],
    ["tokenizer.ggml.model", { type: "string", value: "llama" }],
    ["tokenizer.ggml.tokens", { type: "string[]", value: tokens }],
    ["tokenizer.ggml.scores", { type: "f32[]", value: tokens.map((_, i) => -i) }],
    [
      "tokenizer.ggml.token_type",
      { type: "i32[]", value: tokens.map((_, i) => (i < 3 ? (i === 0 ? 2 : 3) : i < 259 ? 6 : 1)) },
    ],
    ["tokenizer.ggml.bos_token_id", { type: "u32", value: 1 }],
    ["tokenizer.ggml.eos_token_id", { type: "u32", value: 2 }],
    ["tokenizer.ggml.add_space_prefix", { type: "bool", value: false }],
  ];
  if (o.nRot !== undefined) metadata.push([`${arch}.rope.dimension_count`, { type: "u32", value: o.nRot }]);
  if (o.headSize !== undefined) {
    metadata.push([`${arch}.attention.key_length`, { type: "u32", value: headSize }]);
    metadata.push([`${arch}.attention.value_length`, { type: "u32", value: headSize }]);
  }
  if (o.slidingWindow !== undefined) {
    metadata.push([`${arch}.attention.sliding_window`, { type: "u32", value: o.slidingWindow }]);
  }
  if (o.ropeScaling) metadata.push(...ropeScalingMetadata(arch, o.ropeScaling));
  for (const [key, value] of o.metadata ?? []) {
    const at = metadata.findIndex(([k]) => k === key);
    if (at >= 0) metadata[at] = [key, value];
    else metadata.push([key, value]);
  }
  return writeGguf({ metadata, tensors });
}

/** `{arch}.rope.scaling.*` keys as llama.cpp-style writers name them. */
function ropeScalingMetadata(arch: string, s: RopeScaling): [string, GgufWriteValue][] {
  const key = (k: string) => `${arch}.rope.scaling.${k}`;
  const entries: [string, GgufWriteValue][] = [
    [key("type"), { type: "string", value: s.type }],
    [key("factor"), { type: "f32", value: s.factor }],
  ];
  if (s.type === "llama3") {
    entries.push(
      [key("low_freq_factor"), { type: "f32", value: s.lowFreqFactor }],
      [key("high_freq_factor"), { type: "f32", value: s.highFreqFactor }],
      [key("original_context_length"), { type: "u32", value: s.originalContextLength }],
    );
  }
  return entries;
}

// Writes Llama-architecture GGUF files of any shape and weight type from seeded random weights, so every
// architecture and type has a test model without a download.
import { writeGguf, type GgufWriteInput, type GgufWriteTensor } from "./gguf-writer.ts";
import { quantize, type WeightType } from "./ggml-quants.ts";
import { GGML_TYPE, WEIGHT_TYPE_IDS } from "./ggml-types.ts";

export interface SyntheticLlamaOptions {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  /** At least 259: <unk>, <s>, </s> and the 256 byte tokens come first. */
  vocabSize: number;
  seqLen: number;
  /** Type of every 2-D weight (rows whose length is not a multiple of 32 stay F32 for block types). */
  type: WeightType;
  seed: number;
  tiedOutput?: boolean;
  architecture?: string;
  ropeTheta?: number;
  headSize?: number;
  /** Write Llama 3.1-style `rope_freqs.weight` (one divisor per rotated pair). */
  ropeFreqs?: boolean;
  /** `rope.dimension_count`: rotate only the first nRot dims of each head. */
  nRot?: number;
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
  const tensors: GgufWriteTensor[] = [];
  const matrix = (name: string, rows: number, cols: number) => {
    const values = new Float32Array(rows * cols);
    const scale = 1 / Math.sqrt(cols);
    for (let i = 0; i < values.length; i++) values[i] = normal() * scale;
    const type = o.type !== "f32" && o.type !== "f16" && cols % 32 !== 0 ? "f32" : o.type;
    tensors.push({ name, dims: [cols, rows], type: WEIGHT_TYPE_IDS[type], data: quantize(type, values) });
  };
  const norm = (name: string, n: number) => {
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = 1 + 0.1 * normal();
    tensors.push({ name, dims: [n], type: GGML_TYPE.F32, data: new Uint8Array(values.buffer) });
  };
  matrix("token_embd.weight", o.vocabSize, o.dim);
  for (let l = 0; l < o.nLayers; l++) {
    norm(`blk.${l}.attn_norm.weight`, o.dim);
    matrix(`blk.${l}.attn_q.weight`, qDim, o.dim);
    matrix(`blk.${l}.attn_k.weight`, kvDim, o.dim);
    matrix(`blk.${l}.attn_v.weight`, kvDim, o.dim);
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
  return writeGguf({ metadata, tensors });
}

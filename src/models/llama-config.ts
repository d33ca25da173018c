// The Llama-family model configuration, in llama2.c's names; loaders translate file formats into it.

export type RopeLayout = "adjacent" | "halves";

export interface LlamaConfig {
  architecture: string;
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  headSize: number;
  /** nKvHeads * headSize */
  kvDim: number;
  vocabSize: number;
  /** Context length the model was trained for. */
  seqLen: number;
  normEps: number;
  ropeTheta: number;
  /** Dimensions of each head that RoPE rotates (the rest pass through). */
  nRot: number;
  /** `adjacent` rotates (x[2i], x[2i+1]) as llama.cpp's `llama`; `halves` rotates (x[i], x[i+nRot/2]) as `qwen2`. */
  ropeLayout: RopeLayout;
  /** The output matrix is the token embedding (no separate classifier stored). */
  tiedOutput: boolean;
}

/** Weight roles of one layer, named after llama2.c (w1 = gate, w3 = up, w2 = down). */
export const LAYER_WEIGHTS = ["attnNorm", "wq", "wk", "wv", "wo", "ffnNorm", "wGate", "wUp", "wDown"] as const;
export type LayerWeightName = (typeof LAYER_WEIGHTS)[number];

/** Row-major matrices (rows = output features) and vectors, as plain floats. */
export interface LlamaWeightsF32 {
  tokenEmbedding: Float32Array;
  layers: Record<LayerWeightName, Float32Array>[];
  outputNorm: Float32Array;
  output: Float32Array;
  /** Llama 3.1 per-pair RoPE frequency factors (nRot/2), when the file has them. */
  ropeFreqs?: Float32Array;
}

// The Llama-family model configuration, in llama2.c's names; loaders translate file formats into it.

export type RopeLayout = "adjacent" | "halves";

/**
 * RoPE context extension, applied as per-pair frequency divisors (src/models/rope-scaling.ts). `linear` divides
 * every frequency by `factor`; `llama3` divides long wavelengths by `factor`, keeps short ones and blends between
 * (Llama 3.1's `rope_scaling`).
 */
export type RopeScaling =
  | { type: "linear"; factor: number }
  | {
      type: "llama3";
      factor: number;
      lowFreqFactor: number;
      highFreqFactor: number;
      /** Context length before extension (`original_max_position_embeddings`). */
      originalContextLength: number;
    };

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
  /** Projection biases every layer has (qwen2: bq, bk, bv); absent or empty: none. */
  biases?: LayerBiasName[];
  /** Frequency scaling from the metadata; a stored `rope_freqs` tensor takes the place of `llama3`'s divisors. */
  ropeScaling?: RopeScaling;
  /** Sliding-window attention span (Mistral): runnable only with a context no longer than it. */
  slidingWindow?: number;
}

/** Weight roles of one layer, named after llama2.c (w1 = gate, w3 = up, w2 = down). */
export const LAYER_WEIGHTS = ["attnNorm", "wq", "wk", "wv", "wo", "ffnNorm", "wGate", "wUp", "wDown"] as const;
export type LayerWeightName = (typeof LAYER_WEIGHTS)[number];

/** The optional bias role of each attention projection, added to its output (qwen2 has bq, bk, bv). */
export const PROJECTION_BIAS = { wq: "bq", wk: "bk", wv: "bv", wo: "bo" } as const;
export type BiasedProjection = keyof typeof PROJECTION_BIAS;
export type LayerBiasName = (typeof PROJECTION_BIAS)[BiasedProjection];
export const LAYER_BIASES = Object.values(PROJECTION_BIAS);

/** One layer's weights as plain floats: the nine matrices and norms, plus the biases the model has. */
export type LayerWeightsF32 = Record<LayerWeightName, Float32Array> & Partial<Record<LayerBiasName, Float32Array>>;

/** Row-major matrices (rows = output features) and vectors, as plain floats. */
export interface LlamaWeightsF32 {
  tokenEmbedding: Float32Array;
  layers: LayerWeightsF32[];
  outputNorm: Float32Array;
  output: Float32Array;
  /** Llama 3.1 per-pair RoPE frequency factors (nRot/2), when the file has them. */
  ropeFreqs?: Float32Array;
}

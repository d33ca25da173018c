// The reference on qwen2 and Llama 3.1-style models: the `halves` RoPE layout with biases must be the `adjacent`
// layout on weights whose q/k rows are interleaved per head (the permutation llama.cpp's converter applies), and
// llama3 scaling metadata must act as the stored divisors it stands for.
import { describe, expect, test } from "vitest";
import { ReferenceLlama } from "./forward.ts";
import { referenceWeightsFromGguf } from "./gguf-weights.ts";
import { syntheticLlamaGguf, type SyntheticLlamaOptions } from "../loaders/synthetic-model.ts";
import { llama3RopeFactors } from "../models/rope-scaling.ts";
import type { LlamaConfig, LlamaWeightsF32 } from "../models/llama-config.ts";

const qwen2: SyntheticLlamaOptions = {
  architecture: "qwen2",
  dim: 48,
  hiddenDim: 80,
  nLayers: 2,
  nHeads: 4,
  nKvHeads: 2,
  vocabSize: 280,
  seqLen: 64,
  type: "f32",
  seed: 5,
  nRot: 8,
};

/** Rows of a (heads * headSize, cols) matrix or vector reordered per head: out row (h, perm[j]) = in row (h, j). */
function permuteRows(w: Float32Array, heads: number, headSize: number, perm: number[]): Float32Array {
  const cols = w.length / (heads * headSize);
  const out = new Float32Array(w.length);
  for (let h = 0; h < heads; h++) {
    for (let j = 0; j < headSize; j++) {
      const from = (h * headSize + j) * cols;
      out.set(w.subarray(from, from + cols), (h * headSize + perm[j]) * cols);
    }
  }
  return out;
}

function logitsOver(config: LlamaConfig, weights: LlamaWeightsF32, tokens: number[]): Float64Array[] {
  const model = new ReferenceLlama(config, weights);
  return tokens.map((t, pos) => model.forward(t, pos));
}

function maxDiff(a: Float64Array[], b: Float64Array[]): number {
  let worst = 0;
  a.forEach((x, i) => x.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - b[i][j])))));
  return worst;
}

const tokens = [1, 40, 90, 200, 7, 260, 33, 128];

describe("reference: qwen2 and llama3 RoPE", () => {
  test("halves RoPE with biases = adjacent RoPE on q/k rows (and biases) interleaved per head", () => {
    const { config, weights } = referenceWeightsFromGguf(syntheticLlamaGguf(qwen2));
    expect(config.biases).toEqual(["bq", "bk", "bv"]);
    const { headSize, nRot, nHeads, nKvHeads } = config;
    // Halves pair (j, j + nRot/2) becomes adjacent pair (2j, 2j + 1); dims from nRot on stay.
    const perm = Array.from({ length: headSize }, (_, j) =>
      j >= nRot ? j : j < nRot / 2 ? 2 * j : 2 * (j - nRot / 2) + 1,
    );
    const interleaved: LlamaWeightsF32 = {
      ...weights,
      layers: weights.layers.map((lw) => ({
        ...lw,
        wq: permuteRows(lw.wq, nHeads, headSize, perm),
        bq: permuteRows(lw.bq!, nHeads, headSize, perm),
        wk: permuteRows(lw.wk, nKvHeads, headSize, perm),
        bk: permuteRows(lw.bk!, nKvHeads, headSize, perm),
      })),
    };
    const halves = logitsOver(config, weights, tokens);
    const adjacent = logitsOver({ ...config, ropeLayout: "adjacent" }, interleaved, tokens);
    expect(maxDiff(halves, adjacent)).toBeLessThan(1e-9);
    // Without the interleave the layouts differ past position 0, and the biases change the result.
    expect(maxDiff(halves, logitsOver({ ...config, ropeLayout: "adjacent" }, weights, tokens))).toBeGreaterThan(1e-3);
    const unbiased = weights.layers.map((lw) => ({ ...lw, bq: undefined, bk: undefined, bv: undefined }));
    expect(maxDiff(halves, logitsOver(config, { ...weights, layers: unbiased }, tokens))).toBeGreaterThan(1e-3);
  });

  test("llama3 scaling metadata runs as the equivalent stored rope_freqs", () => {
    const scaling = {
      type: "llama3",
      factor: 8,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalContextLength: 200,
    } as const;
    const options = { ...qwen2, architecture: "llama", nRot: undefined, ropeTheta: 10000 };
    const { config, weights } = referenceWeightsFromGguf(syntheticLlamaGguf({ ...options, ropeScaling: scaling }));
    expect(config.ropeScaling).toEqual(scaling);
    const factors = llama3RopeFactors(config.nRot, config.ropeTheta, scaling);
    // A short original context puts the pairs in all three bands.
    expect(new Set(factors).size).toBeGreaterThan(2);
    const fromMetadata = logitsOver(config, weights, tokens);
    const plain = { ...config, ropeScaling: undefined };
    expect(maxDiff(fromMetadata, logitsOver(plain, { ...weights, ropeFreqs: factors }, tokens))).toBe(0);
    expect(maxDiff(fromMetadata, logitsOver(plain, weights, tokens))).toBeGreaterThan(1e-3);
  });
});

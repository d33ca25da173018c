// The whole Llama-family forward pass on the CPU in float64, readable as llama2.c's forward(): the oracle that GPU
// must match token for token. One token at a time with a KV cache. Covers qwen2 too: projection biases and the
// `halves` RoPE layout; RoPE scaling comes from the stored factors or the config's metadata.
import {
  PROJECTION_BIAS,
  type BiasedProjection,
  type LayerWeightsF32,
  type LlamaConfig,
  type LlamaWeightsF32,
} from "../models/llama-config.ts";
import { ropeFreqFactors } from "../models/rope-scaling.ts";
import { argmax, biasAdd, repetitionPenalty, rmsNorm, rope } from "./ops.ts";

/** out (rows) = W (rows, cols) @ x (cols) */
function matvec(out: Float64Array, w: Float32Array, x: Float64Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    let s = 0;
    const base = r * cols;
    for (let k = 0; k < cols; k++) s += w[base + k] * x[k];
    out[r] = s;
  }
}

/** out = W @ x, plus the layer's bias for this projection when the model has one. */
function project(
  out: Float64Array,
  lw: LayerWeightsF32,
  role: BiasedProjection,
  x: Float64Array,
  rows: number,
  cols: number,
): void {
  matvec(out, lw[role], x, rows, cols);
  const bias = lw[PROJECTION_BIAS[role]];
  if (bias) biasAdd(out, bias, 1, rows);
}

export class ReferenceLlama {
  private readonly keys: Float64Array[];
  private readonly values: Float64Array[];
  private readonly freqFactors?: Float32Array;
  /** Per layer, the cosine similarity of the residual stream before and after its FFN in the last forward (NaN where
   *  the FFN was skipped): what the FFN-skip policy watches. */
  readonly ffnSims: Float64Array;
  constructor(
    readonly config: LlamaConfig,
    readonly weights: LlamaWeightsF32,
    readonly capacity = config.seqLen,
  ) {
    this.keys = Array.from({ length: config.nLayers }, () => new Float64Array(capacity * config.kvDim));
    this.values = Array.from({ length: config.nLayers }, () => new Float64Array(capacity * config.kvDim));
    this.freqFactors = ropeFreqFactors(config, weights.ropeFreqs);
    this.ffnSims = new Float64Array(config.nLayers);
  }

  /** Sees the input of each linear layer before it is applied (wq, wk, wv share one; so do wGate, wUp): the pruning
   *  tool gathers Wanda's activation norms through it. */
  observe?: (layer: number, role: "wq" | "wk" | "wv" | "wo" | "wGate" | "wUp" | "wDown", input: Float64Array) => void;

  /** Logits (vocabSize) for `token` at position `pos`; positions must be fed in order from 0. A layer whose entry of
   *  `skipFfn` is true skips its feed-forward block (it adds nothing to the residual stream). */
  forward(token: number, pos: number, skipFfn?: ArrayLike<boolean>): Float64Array {
    const c = this.config;
    const w = this.weights;
    const { dim, headSize, kvDim, nHeads, hiddenDim } = c;
    if (pos >= this.capacity) throw new Error(`position ${pos} is past the context of ${this.capacity}`);
    const x = new Float64Array(dim);
    for (let i = 0; i < dim; i++) x[i] = w.tokenEmbedding[token * dim + i];
    const xb = new Float64Array(dim);
    const q = new Float64Array(dim);
    const k = new Float64Array(kvDim);
    const v = new Float64Array(kvDim);
    const att = new Float64Array(pos + 1);
    const hb = new Float64Array(hiddenDim);
    const hb2 = new Float64Array(hiddenDim);
    const out = new Float64Array(dim);
    const groupSize = nHeads / c.nKvHeads;
    for (let l = 0; l < c.nLayers; l++) {
      const lw = w.layers[l];
      // (dim) attention block
      rmsNorm(xb, x, lw.attnNorm, 1, dim, c.normEps);
      if (this.observe) for (const role of ["wq", "wk", "wv"] as const) this.observe(l, role, xb);
      project(q, lw, "wq", xb, dim, dim);
      project(k, lw, "wk", xb, kvDim, dim);
      project(v, lw, "wv", xb, kvDim, dim);
      rope(q, 1, nHeads, headSize, c.nRot, c.ropeTheta, pos, c.ropeLayout, this.freqFactors);
      rope(k, 1, c.nKvHeads, headSize, c.nRot, c.ropeTheta, pos, c.ropeLayout, this.freqFactors);
      this.keys[l].set(k, pos * kvDim);
      this.values[l].set(v, pos * kvDim);
      const attnOut = new Float64Array(dim);
      for (let h = 0; h < nHeads; h++) {
        const kvh = Math.floor(h / groupSize);
        let max = -Infinity;
        for (let t = 0; t <= pos; t++) {
          let s = 0;
          for (let i = 0; i < headSize; i++) s += q[h * headSize + i] * this.keys[l][t * kvDim + kvh * headSize + i];
          att[t] = s / Math.sqrt(headSize);
          max = Math.max(max, att[t]);
        }
        let sum = 0;
        for (let t = 0; t <= pos; t++) {
          att[t] = Math.exp(att[t] - max);
          sum += att[t];
        }
        for (let t = 0; t <= pos; t++) {
          const a = att[t] / sum;
          for (let i = 0; i < headSize; i++)
            attnOut[h * headSize + i] += a * this.values[l][t * kvDim + kvh * headSize + i];
        }
      }
      this.observe?.(l, "wo", attnOut);
      project(out, lw, "wo", attnOut, dim, dim);
      for (let i = 0; i < dim; i++) x[i] += out[i];
      // (hiddenDim) feed-forward block: down(silu(gate(x)) * up(x))
      if (skipFfn?.[l]) {
        this.ffnSims[l] = NaN;
        continue;
      }
      rmsNorm(xb, x, lw.ffnNorm, 1, dim, c.normEps);
      if (this.observe) for (const role of ["wGate", "wUp"] as const) this.observe(l, role, xb);
      matvec(hb, lw.wGate, xb, hiddenDim, dim);
      matvec(hb2, lw.wUp, xb, hiddenDim, dim);
      for (let i = 0; i < hiddenDim; i++) hb[i] = (hb[i] / (1 + Math.exp(-hb[i]))) * hb2[i];
      this.observe?.(l, "wDown", hb);
      matvec(out, lw.wDown, hb, dim, hiddenDim);
      this.ffnSims[l] = residualCosine(x, out, dim);
    }
    rmsNorm(xb, x, w.outputNorm, 1, dim, c.normEps);
    const logits = new Float64Array(c.vocabSize);
    matvec(logits, w.output, xb, c.vocabSize, dim);
    return logits;
  }
}

/** x += o over dim, returning the cosine similarity of x before and after (1 when both are zero, 0 when one is). */
export function residualCosine(x: Float64Array, o: ArrayLike<number>, dim: number): number {
  let hh = 0;
  let ha = 0;
  let aa = 0;
  for (let i = 0; i < dim; i++) {
    const h = x[i];
    const after = h + o[i];
    x[i] = after;
    hh += h * h;
    ha += h * after;
    aa += after * after;
  }
  if (hh > 0 && aa > 0) return Math.min(1, Math.max(-1, ha / Math.sqrt(hh * aa)));
  return hh === 0 && aa === 0 ? 1 : 0;
}

/** Greedy generation: feeds the prompt, then `steps` argmax tokens; returns the generated ids. With a
 *  repetition penalty, the logits at position p are penalised for the tokens at positions p-window+1..p. */
export function greedyReference(
  model: ReferenceLlama,
  prompt: number[],
  steps: number,
  penalty = 1,
  window = 64,
): number[] {
  const seq = [...prompt];
  let logits: Float64Array = new Float64Array(0);
  prompt.forEach((t, pos) => (logits = model.forward(t, pos)));
  const out: number[] = [];
  for (let s = 0; s < steps; s++) {
    if (penalty !== 1) repetitionPenalty(logits, seq.slice(Math.max(0, seq.length - window)), penalty);
    const next = argmax(logits);
    out.push(next);
    seq.push(next);
    if (s + 1 < steps) logits = model.forward(next, seq.length - 1);
  }
  return out;
}

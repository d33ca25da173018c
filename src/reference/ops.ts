// Float64 CPU reference for every op: the oracle of the kernel tests. Plain loops, llama2.c style,
// output first. Nothing on the runtime path imports this folder.

/** out (rows, dim) = x / sqrt(mean(x^2) + eps) * weight. */
export function rmsNorm(
  out: Float64Array,
  x: ArrayLike<number>,
  weight: ArrayLike<number>,
  rows: number,
  dim: number,
  eps: number,
): Float64Array {
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let i = 0; i < dim; i++) ss += x[r * dim + i] * x[r * dim + i];
    const scale = 1 / Math.sqrt(ss / dim + eps);
    for (let i = 0; i < dim; i++) out[r * dim + i] = x[r * dim + i] * scale * weight[i];
  }
  return out;
}

/** Which elements of a head form a rotated pair: llama.cpp NORM (`llama`) or NEOX (`qwen2`). */
export type RopeLayout = "adjacent" | "halves";

/**
 * RoPE in place on x (nTokens, nHeads * headSize), token t at position startPos + t. Pair i of each head
 * (x[2i], x[2i+1]) when adjacent, (x[i], x[i + nRot/2]) when halves, turns by pos * base^(-2i/nRot) / factor[i];
 * dims from nRot on pass through.
 */
export function rope(
  x: Float64Array,
  nTokens: number,
  nHeads: number,
  headSize: number,
  nRot: number,
  base: number,
  startPos: number,
  layout: RopeLayout,
  freqFactors?: ArrayLike<number>,
): Float64Array {
  const half = nRot / 2;
  for (let t = 0; t < nTokens; t++) {
    const pos = startPos + t;
    for (let h = 0; h < nHeads; h++) {
      const head = (t * nHeads + h) * headSize;
      for (let i = 0; i < half; i++) {
        const angle = (pos * Math.pow(base, (-2 * i) / nRot)) / (freqFactors ? freqFactors[i] : 1);
        const c = Math.cos(angle);
        const s = Math.sin(angle);
        const i0 = layout === "adjacent" ? head + 2 * i : head + i;
        const i1 = layout === "adjacent" ? i0 + 1 : i0 + half;
        const x0 = x[i0];
        const x1 = x[i1];
        x[i0] = x0 * c - x1 * s;
        x[i1] = x0 * s + x1 * c;
      }
    }
  }
  return x;
}

/** out (n) = silu(gate) * up, silu(g) = g / (1 + exp(-g)) written so that no |g| overflows. */
export function swiglu(out: Float64Array, gate: ArrayLike<number>, up: ArrayLike<number>, n: number): Float64Array {
  for (let i = 0; i < n; i++) {
    const g = gate[i];
    const e = Math.exp(-Math.abs(g));
    const sigmoid = g >= 0 ? 1 / (1 + e) : e / (1 + e);
    out[i] = g * sigmoid * up[i];
  }
  return out;
}

/** out (n) = a + b. */
export function add(out: Float64Array, a: ArrayLike<number>, b: ArrayLike<number>, n: number): Float64Array {
  for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
  return out;
}

/** The lowest index among the largest of x[start .. start + n), counted from start. */
export function argmax(x: ArrayLike<number>, start = 0, n = x.length - start): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (x[start + i] > x[start + best]) best = i;
  return best;
}

export interface SamplingSettings {
  /** 0 means greedy (argmax). */
  temperature: number;
  /** Keep the topK largest logits (and any tied with the last); 0 keeps all. */
  topK: number;
  /** Keep the most probable tokens until their mass reaches topP (and any tied with the last); 1 keeps all. */
  topP: number;
}

/**
 * The distribution a sampler draws from (n): softmax(logits / temperature) restricted to the top-k, then to
 * the top-p prefix of the probabilities sorted descending, renormalised. Greedy settings give a one-hot.
 */
export function samplingDistribution(logits: ArrayLike<number>, n: number, s: SamplingSettings): Float64Array {
  const p = new Float64Array(n);
  if (s.temperature <= 0 || s.topK === 1 || n === 1) {
    p[argmax(logits, 0, n)] = 1;
    return p;
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
  let kept = s.topK > 0 && s.topK < n ? s.topK : n;
  while (kept < n && logits[order[kept]] === logits[order[kept - 1]]) kept++;
  const max = logits[order[0]];
  let total = 0;
  for (let j = 0; j < kept; j++) total += Math.exp((logits[order[j]] - max) / s.temperature);
  if (s.topP < 1) {
    let mass = 0;
    let m = 0;
    while (m < kept && mass < s.topP * total) mass += Math.exp((logits[order[m++]] - max) / s.temperature);
    while (m < kept && logits[order[m]] === logits[order[m - 1]]) m++;
    kept = m;
  }
  total = 0;
  for (let j = 0; j < kept; j++) total += p[order[j]] = Math.exp((logits[order[j]] - max) / s.temperature);
  for (let j = 0; j < kept; j++) p[order[j]] /= total;
  return p;
}

/** The token a draw u in [0, 1) picks: the first index whose cumulative probability, in index order, exceeds u. */
export function pickToken(probs: ArrayLike<number>, u: number): number {
  let cumulative = 0;
  let last = 0;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] <= 0) continue;
    cumulative += probs[i];
    last = i;
    if (cumulative > u) return i;
  }
  return last;
}

// The matrix and attention references live in their own files; re-exported so this is the one index of ops.
export { matmul, embedding } from "./matmul.ts";
export { attention, kvCacheWrite } from "./attention.ts";

/** llama.cpp's repetition penalty: each distinct token of `recent` has its logit divided by `penalty` if positive,
 *  multiplied if not. */
export function repetitionPenalty(logits: Float64Array, recent: ArrayLike<number>, penalty: number): Float64Array {
  for (const t of new Set(Array.from(recent))) {
    if (t < 0 || t >= logits.length) continue;
    logits[t] = logits[t] > 0 ? logits[t] / penalty : logits[t] * penalty;
  }
  return logits;
}

/** x (rows, n) += bias (n) on every row, in place: the projection biases of qwen2. */
export function biasAdd(x: Float64Array, bias: ArrayLike<number>, rows: number, n: number): Float64Array {
  for (let r = 0; r < rows; r++) for (let i = 0; i < n; i++) x[r * n + i] += bias[i];
  return x;
}

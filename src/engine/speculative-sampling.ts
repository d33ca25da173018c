// Speculative sampling with a deterministic drafter (prompt lookup, or the FFN-skipping model's argmax): the draft q
// is a point mass on d, so the standard rule (accept with min(1, p(d) / q(d)), else draw from max(0, p - q)
// renormalised) becomes: accept d with probability p(d), else draw from p with d removed. Every emitted token is then
// distributed exactly as plain sampling from p (Leviathan et al. 2023; Chen et al. 2023). p is the distribution the GPU
// sampler draws from (shaders/sample.wgsl): softmax(logits / temperature) cut to the top-k, then to the top-p prefix.
import { drawUniform } from "../decode/philox.ts";

export interface SamplingParams {
  temperature: number;
  topK: number;
  topP: number;
}

/** A distribution over the tokens it keeps, in token order. */
export interface SparseDistribution {
  ids: Int32Array;
  probs: Float64Array;
}

/** Tokens whose weight exp((logit - max) / temperature) is below e^-40 (4e-18) are left out: no f32 sampler sees them. */
const NEGLIGIBLE = 40;

/** The sampling distribution of one row of logits (temperature > 0), with the GPU sampler's rules for ties. */
export function samplingDistribution(
  logits: Float32Array,
  offset: number,
  n: number,
  s: SamplingParams,
): SparseDistribution {
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, logits[offset + i]);
  const floor = max - NEGLIGIBLE * s.temperature;
  const order: number[] = [];
  for (let i = 0; i < n; i++) if (logits[offset + i] >= floor) order.push(i);
  const at = (j: number) => logits[offset + order[j]];
  order.sort((a, b) => logits[offset + b] - logits[offset + a] || a - b);
  let kept = s.topK > 0 && s.topK < order.length ? s.topK : order.length;
  while (kept < order.length && at(kept) === at(kept - 1)) kept++;
  const weight = (j: number) => Math.exp((at(j) - max) / s.temperature);
  if (s.topP < 1) {
    let total = 0;
    for (let j = 0; j < kept; j++) total += weight(j);
    let mass = 0;
    let m = 0;
    while (m < kept && mass < s.topP * total) mass += weight(m++);
    while (m < kept && at(m) === at(m - 1)) m++;
    kept = m;
  }
  const chosen = order.slice(0, kept).sort((a, b) => a - b);
  const probs = new Float64Array(kept);
  let total = 0;
  chosen.forEach((id, j) => (total += probs[j] = Math.exp((logits[offset + id] - max) / s.temperature)));
  for (let j = 0; j < kept; j++) probs[j] /= total;
  return { ids: Int32Array.from(chosen), probs };
}

/** Probability of `id` under `p` (0 when it was cut). */
export function probabilityOf(p: SparseDistribution, id: number): number {
  let lo = 0;
  let hi = p.ids.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (p.ids[mid] === id) return p.probs[mid];
    if (p.ids[mid] < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return 0;
}

/** The token a draw u in [0, 1) picks: the first in token order whose cumulative probability exceeds u; `without`
 *  takes one token's mass out first (renormalising the rest). */
export function pick(p: SparseDistribution, u: number, without = -1): number {
  const removed = without >= 0 ? probabilityOf(p, without) : 0;
  const target = u * (1 - removed);
  let cumulative = 0;
  let last = -1;
  for (let j = 0; j < p.ids.length; j++) {
    if (p.ids[j] === without) continue;
    cumulative += p.probs[j];
    last = p.ids[j];
    if (cumulative > target) return p.ids[j];
  }
  return last;
}

/**
 * Decides a round of drafts against the verifier's rows of logits (k + 1 rows for k drafts): the accepted drafts
 * then the token the verifier adds. Draws come from Philox at counter (position, 1) to accept and (position, 2) to
 * pick, under the generation's seed, so a run is reproducible.
 */
export function acceptSampled(
  logits: Float32Array,
  vocab: number,
  drafts: readonly number[],
  s: SamplingParams & { seed: number },
  pos: number,
): { accepted: number; tokens: number[] } {
  const tokens: number[] = [];
  for (let j = 0; j < drafts.length; j++) {
    const p = samplingDistribution(logits, j * vocab, vocab, s);
    const d = drafts[j];
    if (drawUniform(s.seed, pos + j, 1) < probabilityOf(p, d)) {
      tokens.push(d);
      continue;
    }
    tokens.push(pick(p, drawUniform(s.seed, pos + j, 2), d));
    return { accepted: j, tokens };
  }
  const k = drafts.length;
  tokens.push(pick(samplingDistribution(logits, k * vocab, vocab, s), drawUniform(s.seed, pos + k, 2)));
  return { accepted: k, tokens };
}

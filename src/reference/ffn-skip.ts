// The FFN-skip policy on the CPU in float64: the oracle for the GPU's decisions (shaders/ffn-plan.wgsl and
// ffn-residual.wgsl). Same rules: dense warm-up by position, protected first and last layers, a block is a candidate
// when its last measured similarity reaches the threshold and it has not been skipped `recheckEvery` tokens in a row,
// at most `cap` per token, the most similar first (ties: the lower layer).
import { ffnSkipRange, type FfnSkipSettings } from "../engine/settings.ts";
import { argmax } from "./ops.ts";
import type { ReferenceLlama } from "./forward.ts";

export class ReferenceFfnSkip {
  /** Last measured similarity per layer (-Infinity until the block has run) and tokens skipped in a row. */
  readonly sims: Float64Array;
  readonly ages: Int32Array;
  private readonly range: { first: number; end: number; cap: number };
  /** How near any decision came to going the other way: the smallest distance of a measured similarity from the
   *  threshold, and of two candidates' similarities when the cap had to choose between them. Tests that compare the
   *  GPU's f32 decisions with these need it well above f32 rounding. */
  closest = Infinity;

  constructor(
    readonly nLayers: number,
    readonly settings: FfnSkipSettings,
    /** The first position that may skip: the position of the step making generated token `warmupTokens`. */
    readonly warmupUntil: number,
  ) {
    this.sims = new Float64Array(nLayers).fill(-Infinity);
    this.ages = new Int32Array(nLayers);
    this.range = ffnSkipRange(nLayers, settings);
  }

  /** The blocks the step at `pos` skips. */
  plan(pos: number): boolean[] {
    const skip = new Array<boolean>(this.nLayers).fill(false);
    const { first, end, cap } = this.range;
    if (this.settings.enabled && pos >= this.warmupUntil) {
      const recheck = this.settings.recheckEvery;
      const candidates: number[] = [];
      for (let l = first; l < end; l++) {
        if (this.sims[l] === -Infinity) continue;
        this.closest = Math.min(this.closest, Math.abs(this.sims[l] - this.settings.threshold));
        if (this.sims[l] >= this.settings.threshold && (recheck === 0 || this.ages[l] < recheck)) {
          candidates.push(this.sims[l]);
        }
      }
      if (cap > 0 && candidates.length > cap) {
        candidates.sort((a, b) => b - a);
        this.closest = Math.min(this.closest, candidates[cap - 1] - candidates[cap]);
      }
      for (let n = 0; n < cap; n++) {
        let best = -1;
        for (let l = first; l < end; l++) {
          const candidate =
            !skip[l] && this.sims[l] >= this.settings.threshold && (recheck === 0 || this.ages[l] < recheck);
          if (candidate && (best < 0 || this.sims[l] > this.sims[best])) best = l;
        }
        if (best < 0) break;
        skip[best] = true;
      }
    }
    for (let l = first; l < end; l++) if (skip[l]) this.ages[l]++;
    return skip;
  }

  /** Records what a step's FFN blocks measured (NaN: skipped). */
  measured(sims: ArrayLike<number>): void {
    for (let l = 0; l < this.nLayers; l++) {
      if (Number.isNaN(sims[l])) continue;
      this.sims[l] = sims[l];
      this.ages[l] = 0;
    }
  }
}

export interface SkipGeneration {
  ids: number[];
  /** Per generated token, per layer: did its FFN run. */
  ran: boolean[][];
  /** Per generated token: the logits it was chosen from. */
  logits: Float64Array[];
  /** Per generated token, per layer: the similarity measured (NaN where skipped). */
  sims: number[][];
  /** ReferenceFfnSkip.closest over the run. */
  closest: number;
}

/** Greedy generation under the policy (off: dense), as the engine runs it: prompt, then `steps` decode steps. */
export function skipGreedyReference(
  model: ReferenceLlama,
  prompt: number[],
  steps: number,
  settings: FfnSkipSettings,
): SkipGeneration {
  const n = model.config.nLayers;
  const policy = new ReferenceFfnSkip(n, settings, prompt.length - 1 + settings.warmupTokens);
  for (let pos = 0; pos < prompt.length - 1; pos++) model.forward(prompt[pos], pos);
  const out: SkipGeneration = { ids: [], ran: [], logits: [], sims: [], closest: Infinity };
  let token = prompt[prompt.length - 1];
  for (let s = 0; s < steps; s++) {
    const pos = prompt.length - 1 + s;
    const skip = policy.plan(pos);
    const logits = model.forward(token, pos, skip);
    policy.measured(model.ffnSims);
    token = argmax(logits);
    out.ids.push(token);
    out.ran.push(skip.map((x) => !x));
    out.logits.push(logits);
    out.sims.push(Array.from(model.ffnSims));
  }
  out.closest = policy.closest;
  return out;
}

/** The policy run along a fixed token sequence (teacher forcing): per step, the logits and which blocks ran. Fed the
 *  dense model's own greedy tokens, it measures how far skipping moves each next-token distribution (KL, top-1)
 *  without one early disagreement changing every later context. */
export function teacherForcedSkip(
  model: ReferenceLlama,
  prompt: number[],
  forced: number[],
  settings: FfnSkipSettings,
): { logits: Float64Array[]; ran: boolean[][] } {
  const policy = new ReferenceFfnSkip(model.config.nLayers, settings, prompt.length - 1 + settings.warmupTokens);
  for (let pos = 0; pos < prompt.length - 1; pos++) model.forward(prompt[pos], pos);
  const out = { logits: [] as Float64Array[], ran: [] as boolean[][] };
  const inputs = [prompt[prompt.length - 1], ...forced.slice(0, -1)];
  inputs.forEach((token, s) => {
    const pos = prompt.length - 1 + s;
    const skip = policy.plan(pos);
    out.logits.push(model.forward(token, pos, skip));
    policy.measured(model.ffnSims);
    out.ran.push(skip.map((x) => !x));
  });
  return out;
}

/** KL(p || q) of the softmaxes of two rows of logits, in nats. */
export function klDivergence(p: ArrayLike<number>, q: ArrayLike<number>): number {
  const logSoftmax = (x: ArrayLike<number>) => {
    let max = -Infinity;
    for (let i = 0; i < x.length; i++) max = Math.max(max, x[i]);
    let sum = 0;
    for (let i = 0; i < x.length; i++) sum += Math.exp(x[i] - max);
    const log = Math.log(sum) + max;
    return Float64Array.from(x, (v) => v - log);
  };
  const lp = logSoftmax(p);
  const lq = logSoftmax(q);
  let kl = 0;
  for (let i = 0; i < lp.length; i++) kl += Math.exp(lp[i]) * (lp[i] - lq[i]);
  return Math.max(0, kl);
}

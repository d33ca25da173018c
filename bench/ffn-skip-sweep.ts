// The FFN-skip threshold sweep of one model: per threshold, the GPU engine's skip ratio (as its kernels counted),
// agreement with dense greedy output and decode speed, and on the CPU reference (float64, same policy, fed dense's
// tokens) the top-1 agreement and mean KL divergence of the next-token distributions.
import type { Engine } from "../src/engine/engine.ts";
import { ffnSkipRange, type FfnSkipSettings } from "../src/engine/settings.ts";
import type { GenerateResult } from "../src/engine/types.ts";
import { ReferenceLlama } from "../src/reference/forward.ts";
import { klDivergence, teacherForcedSkip } from "../src/reference/ffn-skip.ts";
import { argmax } from "../src/reference/ops.ts";
import type { LlamaConfig, LlamaWeightsF32 } from "../src/models/llama-config.ts";
import type { AdaptiveSpec, SweepPoint } from "./ffn-skip-types.ts";

export interface DenseRun {
  ids: number[][];
  decodeMs: number;
  decodeTokens: number;
  /** Reference logits along dense's tokens, per prompt and step. */
  logits: Float64Array[][];
}

/** Decode wall time of a result: tokens after the first, over the time after the first. */
export function decodeTime(r: GenerateResult): { ms: number; tokens: number } {
  const tokens = Math.max(0, r.stats.generatedTokens - 1);
  return { ms: tokens > 0 ? (tokens / r.stats.decodeTokensPerSecond) * 1000 : 0, tokens };
}

export async function denseRun(
  engine: Engine,
  reference: { config: LlamaConfig; weights: LlamaWeightsF32 },
  prompts: number[][],
  spec: AdaptiveSpec,
): Promise<DenseRun> {
  const out: DenseRun = { ids: [], decodeMs: 0, decodeTokens: 0, logits: [] };
  const off: FfnSkipSettings = { ...spec.policy, enabled: false, threshold: 2 };
  for (const prompt of prompts) {
    const r = await engine.generate(prompt, { temperature: 0, stopAtEos: false, maxTokens: spec.generate });
    const t = decodeTime(r);
    out.ids.push(r.tokenIds);
    out.decodeMs += t.ms;
    out.decodeTokens += t.tokens;
    const model = new ReferenceLlama(reference.config, reference.weights, spec.contextLength);
    out.logits.push(teacherForcedSkip(model, prompt, r.tokenIds, off).logits);
  }
  return out;
}

export async function sweepPoint(
  engine: Engine,
  reference: { config: LlamaConfig; weights: LlamaWeightsF32 },
  prompts: number[][],
  dense: DenseRun,
  spec: AdaptiveSpec,
  threshold: number,
  /** The whole policy (the engine's defaults, say) instead of the sweep's with this threshold. */
  whole?: FfnSkipSettings,
): Promise<SweepPoint> {
  const policy: FfnSkipSettings = whole ?? { ...spec.policy, enabled: true, threshold };
  const nLayers = reference.config.nLayers;
  const { first, end } = ffnSkipRange(nLayers, policy);
  let skipped = 0;
  let blocks = 0;
  let same = 0;
  let total = 0;
  let prefix = 0;
  let ms = 0;
  let tokens = 0;
  let top1 = 0;
  let kl = 0;
  let steps = 0;
  let teacherSkipped = 0;
  for (const [i, prompt] of prompts.entries()) {
    const r = await engine.generate(prompt, {
      temperature: 0,
      stopAtEos: false,
      maxTokens: spec.generate,
      ffnSkip: policy,
    });
    const f = r.stats.ffnSkip!;
    skipped += f.blocksSkipped;
    blocks += f.blocksRun + f.blocksSkipped;
    const want = dense.ids[i];
    r.tokenIds.forEach((t, j) => (same += t === want[j] ? 1 : 0));
    total += want.length;
    let k = 0;
    while (k < want.length && r.tokenIds[k] === want[k]) k++;
    prefix += k;
    const t = decodeTime(r);
    ms += t.ms;
    tokens += t.tokens;
    const model = new ReferenceLlama(reference.config, reference.weights, spec.contextLength);
    const forced = teacherForcedSkip(model, prompt, want, policy);
    forced.logits.forEach((row, s) => {
      const base = dense.logits[i][s];
      top1 += argmax(row) === argmax(base) ? 1 : 0;
      kl += klDivergence(base, row);
      steps++;
    });
    teacherSkipped += forced.ran.flat().filter((x) => !x).length;
  }
  const tps = tokens / (ms / 1000);
  const denseTps = dense.decodeTokens / (dense.decodeMs / 1000);
  return {
    threshold: policy.threshold,
    ...(whole ? { policy: whole } : {}),
    skipRatio: skipped / blocks,
    skipRatioUnprotected: (skipped / blocks) * (nLayers / Math.max(1, end - first)),
    agreement: same / total,
    meanAgreedPrefix: prefix / prompts.length,
    teacherTop1: top1 / steps,
    meanKl: kl / steps,
    teacherSkipRatio: teacherSkipped / (steps * nLayers),
    decodeTokensPerSecond: tps,
    speedup: tps / denseTps,
  };
}

/** The knee: the point skipping most while the teacher-forced top-1 agreement stays at or above `floor`. */
export function knee(points: SweepPoint[], floor = 0.9): number | undefined {
  let best: SweepPoint | undefined;
  for (const p of points) {
    if (p.teacherTop1 >= floor && p.skipRatio > 0 && (!best || p.skipRatio > best.skipRatio)) best = p;
  }
  return best?.threshold;
}

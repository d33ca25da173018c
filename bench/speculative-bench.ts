// Speculative decoding on one model: per drafter, the adaptive controller and fixed draft lengths over the sweep's
// prompts; acceptance, tokens per verify pass, decode speed against plain greedy decoding, and from the measured round
// cost and the dense run's cost per token the acceptance at which each round breaks even. Every output is checked against plain greedy's.
import type { Engine } from "../src/engine/engine.ts";
import type { SpeculativeSettings } from "../src/engine/settings.ts";
import { breakEvenAcceptance } from "../src/engine/speculation-control.ts";
import { decodeTime, type DenseRun } from "./ffn-skip-sweep.ts";
import type { AdaptiveSpec, SpeculativePoint } from "./ffn-skip-types.ts";

export async function speculativePoint(
  engine: Engine,
  prompts: number[][],
  dense: DenseRun,
  spec: AdaptiveSpec,
  drafter: "ngram" | "ffn-skip",
  draftThreshold: number,
  fixed?: number,
): Promise<SpeculativePoint> {
  const speculative: Partial<SpeculativeSettings> = {
    drafter,
    maxDraft: fixed ?? spec.speculative.maxDraft,
    adaptive: fixed === undefined,
    draftSkip: { threshold: draftThreshold },
  };
  let ms = 0;
  let tokens = 0;
  let drafted = 0;
  let accepted = 0;
  let passes = 0;
  let fromPasses = 0;
  let plainTokens = 0;
  let mismatches = 0;
  const plainMs: number[] = [];
  const roundMs: number[] = [];
  for (const [i, prompt] of prompts.entries()) {
    const r = await engine.generate(prompt, {
      temperature: 0,
      stopAtEos: false,
      maxTokens: spec.generate,
      speculative,
    });
    if (r.tokenIds.join() !== dense.ids[i].join()) mismatches++;
    const t = decodeTime(r);
    ms += t.ms;
    tokens += t.tokens;
    const s = r.stats.speculative!;
    drafted += s.drafted;
    accepted += s.accepted;
    passes += s.verifyPasses;
    fromPasses += s.tokensPerPass * s.verifyPasses;
    plainTokens += s.plainTokens;
    if (s.msPerPlainToken !== undefined) plainMs.push(s.msPerPlainToken);
    if (fixed !== undefined && s.msPerRound[fixed] !== undefined) roundMs.push(s.msPerRound[fixed]);
  }
  const mean = (x: number[]) => (x.length ? x.reduce((a, b) => a + b, 0) / x.length : undefined);
  const tps = tokens / (ms / 1000);
  const point: SpeculativePoint = {
    drafter,
    mode: fixed === undefined ? "adaptive" : `k=${fixed}`,
    acceptanceRate: drafted ? accepted / drafted : 0,
    tokensPerPass: passes ? fromPasses / passes : 0,
    verifyPasses: passes,
    plainTokens,
    decodeTokensPerSecond: tps,
    speedup: tps / (dense.decodeTokens / (dense.decodeMs / 1000)),
    mismatches,
    msPerPlainToken: mean(plainMs),
    msPerRound: mean(roundMs),
  };
  // Against the dense run's pipelined cost per token: the speed plain decoding really has.
  if (fixed !== undefined && point.msPerRound !== undefined) {
    point.breakEvenAcceptance = breakEvenAcceptance(fixed, point.msPerRound, dense.decodeMs / dense.decodeTokens);
  }
  return point;
}

// Picks a generation's decoding loop: speculative (when a drafter is set and the settings allow it), else plain
// decoding, dense or with FFN skipping.
import { decodePlain, ffnSkipSteps, plainStep, startRepetitionHistory, type DecodeRun } from "./decode-loop.ts";
import { speculate, speculationApplies } from "./speculative.ts";
import type { SpeculativeStats } from "./types.ts";

/** Decodes until the sink ends the generation; returns what speculation did, when it ran. */
export async function decodeAdaptive(run: DecodeRun): Promise<SpeculativeStats | undefined> {
  const s = run.settings;
  const start = { pos: run.prompt.length - 1, token: run.prompt[run.prompt.length - 1] };
  if (s.repetitionPenalty !== 1) startRepetitionHistory(run);
  if (speculationApplies(s)) return speculate(run, start);
  if (s.ffnSkip.enabled) {
    const steps = await ffnSkipSteps(run, start.pos + s.ffnSkip.warmupTokens);
    await decodePlain(run, steps, start, { ffnFlags: true });
  } else await decodePlain(run, await plainStep(run), start);
  return undefined;
}

// Launcher for shaders/repetition-penalty.wgsl: penalises recently seen tokens in the logits on the GPU, keeping
// its own history ring so that a decode step needs nothing from the CPU. `update({ pos })` each step.
import source from "../../shaders/repetition-penalty.wgsl?raw";
import type { GpuContext } from "../gpu/device.ts";
import { SkiffError } from "../errors.ts";
import { defineKernel, prepareKernel, type Binding, type PreparedKernel } from "./dispatch.ts";
import { requireCount, requireWords } from "./grid.ts";

export const repetitionPenaltyKernel = defineKernel("repetition-penalty", source, [
  ["vocab", "u32"],
  ["window", "u32"],
  ["pos", "u32"],
  ["penalty", "f32"],
] as const);

export interface RepetitionPenaltyArgs {
  /** tokens[0] is the step's input token, recorded into the history. */
  tokens: GPUBuffer | Binding;
  /** Ring of `window` u32 token ids: the token at position p sits at p % window. */
  history: GPUBuffer | Binding;
  /** (vocab) f32, penalised in place. */
  logits: GPUBuffer | Binding;
  vocab: number;
  window: number;
  pos: number;
  /** > 0; 1 changes nothing. */
  penalty: number;
}

export function checkPenalty(penalty: number): void {
  if (!(penalty > 0 && Number.isFinite(penalty))) {
    throw new SkiffError("bad-argument", `repetition-penalty: penalty=${penalty} must be a finite number above 0`);
  }
}

export function repetitionPenalty(
  ctx: GpuContext,
  a: RepetitionPenaltyArgs,
): Promise<PreparedKernel<typeof repetitionPenaltyKernel.params.fields>> {
  requireCount("repetition-penalty", "vocab", a.vocab);
  requireCount("repetition-penalty", "window", a.window);
  checkPenalty(a.penalty);
  requireWords(ctx, "repetition-penalty", "tokens", a.tokens, 1);
  requireWords(ctx, "repetition-penalty", "history", a.history, a.window);
  requireWords(ctx, "repetition-penalty", "logits", a.logits, a.vocab);
  return prepareKernel({
    ctx,
    kernel: repetitionPenaltyKernel,
    bindings: [a.tokens, a.history, a.logits],
    params: { vocab: a.vocab, window: a.window, pos: a.pos, penalty: a.penalty },
    workgroups: [1],
  });
}

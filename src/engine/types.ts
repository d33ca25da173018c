// The engine's public result types: token events, stop reasons, statistics and the generation result.

export type StopReason = "eos" | "max-tokens" | "stop-string" | "context-full" | "aborted";

/** What FFN skipping did in one generation, counted from the kernels' own flags. */
export interface FfnSkipStats {
  /** FFN blocks that ran and that were skipped, over every generated token and layer. */
  blocksRun: number;
  blocksSkipped: number;
  /** blocksSkipped / (blocksRun + blocksSkipped). */
  skipRatio: number;
}

/** What speculative decoding did in one generation. */
export interface SpeculativeStats {
  drafter: "ffn-skip" | "ngram";
  /** Verify passes, tokens drafted into them and drafted tokens the verifier agreed with. */
  verifyPasses: number;
  drafted: number;
  accepted: number;
  /** accepted / drafted. */
  acceptanceRate: number;
  /** Tokens each verify pass produced on average (accepted drafts plus the verifier's own). */
  tokensPerPass: number;
  /** Tokens made by plain decode steps (drafting paused, or nothing to draft). */
  plainTokens: number;
  /** Acceptance rate below which drafting at the chosen length costs more than it saves, from this run's timings
   *  (Infinity: no rate would pay for the round). */
  breakEvenAcceptance?: number;
  /** This run's timings: milliseconds per plainly decoded token, and per round by draft length. */
  msPerPlainToken?: number;
  msPerRound: Record<number, number>;
}

export interface GenerationStats {
  promptTokens: number;
  /** Prompt tokens whose prefill was skipped: their keys and values were still in the cache. */
  cachedPromptTokens: number;
  generatedTokens: number;
  timeToFirstTokenMs: number;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  /** Bytes of weights and KV cache the model holds on the GPU. */
  gpuBytes: number;
  /** Present when FFN skipping was on. */
  ffnSkip?: FfnSkipStats;
  /** Present when speculative decoding was on. */
  speculative?: SpeculativeStats;
}

export interface TokenEvent {
  id: number;
  /** Text this token completes (may be empty while a multi-byte character is incomplete). */
  text: string;
  index: number;
  /** Milliseconds since generate() was called. */
  elapsedMs: number;
  /** With FFN skipping on: per layer, whether the token's FFN block ran (as the kernels that ran reported it). */
  ffnRan?: boolean[];
}

export interface GenerateResult {
  text: string;
  tokenIds: number[];
  stopReason: StopReason;
  stats: GenerationStats;
}

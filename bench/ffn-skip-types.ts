// Shapes of the adaptive-compute benchmark (bench/ffn-skip.html): its cases (ffn-skip-cases.json) and its results.
import type { SyntheticLlamaOptions } from "../src/loaders/synthetic-model.ts";
import type { FfnSkipSettings } from "../src/engine/settings.ts";

export interface AdaptiveModelCase {
  id: string;
  /** A GGUF the runner serves from ../shared/models (at /__skiff_bench/<file>). */
  file?: string;
  synthetic?: SyntheticLlamaOptions;
  /** Per layer: ffn_down multiplied by this (a synthetic model whose middle FFN blocks barely change the stream). */
  ffnDownScale?: number[];
  thresholds: number[];
  /** The ffn-skip drafter's threshold on this model. */
  draftThreshold: number;
}

export interface AdaptiveSpec {
  prompts: { count: number; seed: number; maxExtraTokens: number };
  generate: number;
  contextLength: number;
  policy: Omit<FfnSkipSettings, "enabled" | "threshold">;
  models: AdaptiveModelCase[];
  speculative: { maxDraft: number; fixedDrafts: number[] };
}

export interface SweepPoint {
  threshold: number;
  /** Set on the point run with the engine's default policy (the sweep's other knobs otherwise). */
  policy?: FfnSkipSettings;
  /** GPU, free running: FFN blocks skipped over all blocks of generated tokens (kernels' count). */
  skipRatio: number;
  /** Skipped over the unprotected blocks only. */
  skipRatioUnprotected: number;
  /** Share of generated tokens equal to dense greedy's at the same index, and the mean length of the equal start. */
  agreement: number;
  meanAgreedPrefix: number;
  /** CPU reference fed dense's tokens (teacher forcing): top-1 agreement and mean KL(dense || skip) per step. */
  teacherTop1: number;
  meanKl: number;
  teacherSkipRatio: number;
  /** GPU decode tokens per second (generated tokens after the first over their wall time) and vs dense. */
  decodeTokensPerSecond: number;
  speedup: number;
}

export interface SpeculativePoint {
  drafter: "ngram" | "ffn-skip";
  /** "adaptive", or the fixed draft length. */
  mode: string;
  acceptanceRate: number;
  tokensPerPass: number;
  verifyPasses: number;
  plainTokens: number;
  decodeTokensPerSecond: number;
  speedup: number;
  /** Prompts whose output differed from plain greedy decoding (must be 0). */
  mismatches: number;
  /** Measured: ms per plain token within the run (short stretches, so above dense's), ms per round at this length, and
   *  the acceptance at which that round breaks even against the dense run's ms per token. */
  msPerPlainToken?: number;
  msPerRound?: number;
  breakEvenAcceptance?: number;
}

export interface AdaptiveModelResult {
  id: string;
  nLayers: number;
  denseDecodeTokensPerSecond: number;
  sweep: SweepPoint[];
  /** The point chosen as the knee: most skipping with teacher-forced top-1 agreement >= 0.9 (undefined if none). */
  knee?: number;
  speculative: SpeculativePoint[];
  error?: string;
}

export interface AdaptiveBenchResults {
  date: string;
  userAgent: string;
  adapter: string;
  spec: AdaptiveSpec;
  models: AdaptiveModelResult[];
  durationS: number;
  fatal?: string;
}

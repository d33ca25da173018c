// Generation settings: defaults and validation, with errors that name the setting.
import { SkiffError } from "../errors.ts";

/**
 * FFN skipping during decoding (after FFN-SkipLLM): a layer's feed-forward block is skipped for a token when, the
 * last time it ran, it barely turned the residual stream (cosine similarity of the stream before and after it at
 * least `threshold`). Attention always runs, so the KV cache stays exact. Decisions are made on the GPU.
 */
export interface FfnSkipSettings {
  enabled: boolean;
  /** The first generated tokens run dense (and measure every block). */
  warmupTokens: number;
  /** Layers at the start and at the end whose FFN always runs. */
  protectFirst: number;
  protectLast: number;
  /** A block is skipped when its last measured similarity is at least this (above 1: never). */
  threshold: number;
  /** At most this share of the unprotected blocks is skipped per token (rounded down), the most similar first. */
  maxSkipFraction: number;
  /** A block skipped this many tokens in a row runs on the next one to refresh its similarity (0: never forced). */
  recheckEvery: number;
}

/**
 * Lossless speculative decoding (greedy and sampled): a drafter proposes up to `maxDraft` tokens, one batched dense pass
 * verifies them, and the output is what plain decoding gives. "ffn-skip" drafts with the same model under an
 * aggressive FFN-skip policy (`draftSkip`), "ngram" copies what followed the last matching n-gram of the context.
 * While speculating every verify pass and plain step is dense (`ffnSkip` does not apply); with a repetition penalty
 * the engine decodes plainly, as the verify rows cannot share the penalty's window.
 */
export interface SpeculativeSettings {
  drafter: "ffn-skip" | "ngram" | "off";
  maxDraft: number;
  /** Adapt the draft length to the measured acceptance and costs, pausing drafting when it would not pay (default);
   *  false always drafts maxDraft tokens (for measuring). */
  adaptive: boolean;
  /** The ffn-skip drafter's policy (its `enabled` and `warmupTokens` are ignored). */
  draftSkip: Partial<FfnSkipSettings>;
}

export interface GenerateSettings {
  /** Tokens to generate at most (the prompt not counted). */
  maxTokens: number;
  /** 0 is greedy decoding. */
  temperature: number;
  /** 0 keeps every token. */
  topK: number;
  /** In (0, 1]; 1 keeps every token. */
  topP: number;
  /** Same seed, same prompt, same settings: same output. */
  seed: number;
  /** Generation stops before any of these strings would appear in the output. */
  stop: string[];
  /** Stop at the model's end-of-sequence token. */
  stopAtEos: boolean;
  /** llama.cpp's repeat penalty over the last 64 tokens (prompt included); 1 is off. */
  repetitionPenalty: number;
  /** Skip the prefill of the prompt's start where it repeats the last generation's tokens (their keys and values
   *  are still in the cache), as the next turn of a chat does. */
  reusePrefix: boolean;
  /** FFN skipping (off by default); unset fields take DEFAULT_FFN_SKIP's. */
  ffnSkip: Partial<FfnSkipSettings>;
  /** Speculative decoding (off by default); unset fields take DEFAULT_SPECULATIVE's. */
  speculative: Partial<SpeculativeSettings>;
}

/** Settings with every nested field filled in. */
export interface ResolvedSettings extends GenerateSettings {
  ffnSkip: FfnSkipSettings;
  speculative: SpeculativeSettings & { draftSkip: FfnSkipSettings };
}

/**
 * The threshold sits at the knee of the sweep on the synthetic model with saturated middle blocks (bench/run-ffn-skip.mjs:
 * the most skipping that keeps teacher-forced top-1 agreement at 90% or more); stories260K has no knee, as none of its
 * five blocks is saturated (cosines 0.7 to 0.9). The cap keeps to FFN-SkipLLM's safe range (quality drops past ~35%).
 */
export const DEFAULT_FFN_SKIP: FfnSkipSettings = {
  enabled: false,
  warmupTokens: 8,
  protectFirst: 1,
  protectLast: 1,
  threshold: 0.99,
  maxSkipFraction: 0.5,
  recheckEvery: 4,
};

/** The ffn-skip drafter's policy: skip more, as the verifier catches what it gets wrong. */
export const DEFAULT_DRAFT_SKIP: FfnSkipSettings = {
  enabled: true,
  warmupTokens: 0,
  protectFirst: 1,
  protectLast: 0,
  threshold: 0.95,
  maxSkipFraction: 1,
  recheckEvery: 8,
};

export const DEFAULT_SPECULATIVE: Omit<SpeculativeSettings, "draftSkip"> = {
  drafter: "off",
  maxDraft: 4,
  adaptive: true,
};

/** The most tokens one verify pass checks (drafted tokens plus the one before them); bounded by the prefill chunk. */
export const MAX_DRAFT = 15;

export const DEFAULT_SETTINGS: Omit<GenerateSettings, "seed" | "ffnSkip" | "speculative"> = {
  maxTokens: 128,
  temperature: 0.8,
  topK: 40,
  topP: 0.95,
  stop: [],
  stopAtEos: true,
  repetitionPenalty: 1,
  reusePrefix: true,
};

export function resolveSettings(s: Partial<GenerateSettings> = {}): ResolvedSettings {
  const out: ResolvedSettings = {
    ...DEFAULT_SETTINGS,
    seed: (Math.random() * 2 ** 32) >>> 0,
    ...s,
    ffnSkip: resolveFfnSkip(s.ffnSkip, DEFAULT_FFN_SKIP, "ffnSkip"),
    speculative: resolveSpeculative(s.speculative),
  };
  const bad = (name: string, why: string) =>
    new SkiffError(
      "bad-argument",
      `Setting ${name}=${JSON.stringify((out as unknown as Record<string, unknown>)[name])} ${why}`,
    );
  if (!(Number.isInteger(out.maxTokens) && out.maxTokens >= 1))
    throw bad("maxTokens", "must be a whole number of at least 1");
  if (!(out.temperature >= 0 && Number.isFinite(out.temperature))) throw bad("temperature", "must be 0 or more");
  if (!(Number.isInteger(out.topK) && out.topK >= 0)) throw bad("topK", "must be a whole number, 0 for off");
  if (!(out.topP > 0 && out.topP <= 1)) throw bad("topP", "must be in (0, 1]");
  if (!(Number.isInteger(out.seed) && out.seed >= 0 && out.seed < 2 ** 32))
    throw bad("seed", "must be a whole number in [0, 2^32)");
  if (!(out.repetitionPenalty > 0 && Number.isFinite(out.repetitionPenalty)))
    throw bad("repetitionPenalty", "must be above 0 (1 is off)");
  if (!Array.isArray(out.stop) || out.stop.some((x) => typeof x !== "string" || x.length === 0))
    throw bad("stop", "must be a list of non-empty strings");
  return out;
}

function resolveFfnSkip(
  given: Partial<FfnSkipSettings> | undefined,
  defaults: FfnSkipSettings,
  path: string,
): FfnSkipSettings {
  if (given !== undefined && (typeof given !== "object" || given === null || Array.isArray(given))) {
    throw new SkiffError("bad-argument", `Setting ${path} must be an object of FFN-skip settings`);
  }
  const out: FfnSkipSettings = { ...defaults, ...given };
  const bad = (name: keyof FfnSkipSettings, why: string) =>
    new SkiffError("bad-argument", `Setting ${path}.${name}=${JSON.stringify(out[name])} ${why}`);
  if (typeof out.enabled !== "boolean") throw bad("enabled", "must be true or false");
  for (const name of ["warmupTokens", "protectFirst", "protectLast", "recheckEvery"] as const) {
    if (!(Number.isInteger(out[name]) && out[name] >= 0 && out[name] < 2 ** 31)) {
      throw bad(name, "must be a whole number, 0 or more");
    }
  }
  if (!(typeof out.threshold === "number" && Number.isFinite(out.threshold) && out.threshold >= -1)) {
    throw bad("threshold", "must be a cosine similarity, -1 or more (above 1 skips nothing)");
  }
  if (!(out.maxSkipFraction >= 0 && out.maxSkipFraction <= 1)) throw bad("maxSkipFraction", "must be in [0, 1]");
  return out;
}

function resolveSpeculative(given: Partial<SpeculativeSettings> | undefined): ResolvedSettings["speculative"] {
  if (given !== undefined && (typeof given !== "object" || given === null || Array.isArray(given))) {
    throw new SkiffError("bad-argument", "Setting speculative must be an object of speculative-decoding settings");
  }
  const out = { ...DEFAULT_SPECULATIVE, ...given };
  if (!["ffn-skip", "ngram", "off"].includes(out.drafter)) {
    throw new SkiffError(
      "bad-argument",
      `Setting speculative.drafter=${JSON.stringify(out.drafter)} must be "ffn-skip", "ngram" or "off"`,
    );
  }
  if (!(Number.isInteger(out.maxDraft) && out.maxDraft >= 1 && out.maxDraft <= MAX_DRAFT)) {
    throw new SkiffError(
      "bad-argument",
      `Setting speculative.maxDraft=${JSON.stringify(out.maxDraft)} must be a whole number in [1, ${MAX_DRAFT}]`,
    );
  }
  if (typeof out.adaptive !== "boolean") {
    throw new SkiffError(
      "bad-argument",
      `Setting speculative.adaptive=${JSON.stringify(out.adaptive)} must be true or false`,
    );
  }
  const draftSkip = resolveFfnSkip(given?.draftSkip, DEFAULT_DRAFT_SKIP, "speculative.draftSkip");
  return { ...out, draftSkip: { ...draftSkip, enabled: true, warmupTokens: 0 } };
}

/** The layers a policy may skip, [first, end), and how many of them at most per token. */
export function ffnSkipRange(nLayers: number, s: FfnSkipSettings): { first: number; end: number; cap: number } {
  const first = Math.min(nLayers, s.protectFirst);
  const end = Math.max(first, nLayers - s.protectLast);
  // The small epsilon keeps e.g. 0.3 x 10 at 3 despite 0.3's binary rounding.
  const cap = Math.floor(s.maxSkipFraction * (end - first) + 1e-9);
  return { first, end, cap };
}

/** True when greedy: temperature 0 or top-k 1. */
export function isGreedy(s: GenerateSettings): boolean {
  return s.temperature === 0 || s.topK === 1;
}

// Generation settings: defaults and validation, with errors that name the setting.
import { SkiffError } from "../errors.ts";

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
}

export const DEFAULT_SETTINGS: Omit<GenerateSettings, "seed"> = {
  maxTokens: 128,
  temperature: 0.8,
  topK: 40,
  topP: 0.95,
  stop: [],
  stopAtEos: true,
  repetitionPenalty: 1,
  reusePrefix: true,
};

export function resolveSettings(s: Partial<GenerateSettings> = {}): GenerateSettings {
  const out: GenerateSettings = { ...DEFAULT_SETTINGS, seed: (Math.random() * 2 ** 32) >>> 0, ...s };
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

/** True when greedy: temperature 0 or top-k 1. */
export function isGreedy(s: GenerateSettings): boolean {
  return s.temperature === 0 || s.topK === 1;
}

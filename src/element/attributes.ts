// Reads <skiff-chat>'s attributes into generation settings and load options, with errors that name the attribute.
import { SkiffError } from "../errors.ts";
import type { FfnSkipSettings, GenerateSettings, SpeculativeSettings } from "../engine/settings.ts";

/** Attribute name → the setting it fills. Range checks are the engine's (resolveSettings), so they stay in one place. */
const NUMERIC_SETTINGS = {
  "max-tokens": "maxTokens",
  temperature: "temperature",
  "top-k": "topK",
  "top-p": "topP",
  seed: "seed",
} as const satisfies Record<string, keyof GenerateSettings>;

/** `ffn-skip-*` attribute → the FFN-skip setting it fills (with the `ffn-skip` attribute present). */
const FFN_SKIP_SETTINGS = {
  "ffn-skip-threshold": "threshold",
  "ffn-skip-warmup": "warmupTokens",
  "ffn-skip-protect-first": "protectFirst",
  "ffn-skip-protect-last": "protectLast",
  "ffn-skip-max-fraction": "maxSkipFraction",
  "ffn-skip-recheck": "recheckEvery",
} as const satisfies Record<string, keyof FfnSkipSettings>;

export const SETTING_ATTRIBUTES = [
  ...Object.keys(NUMERIC_SETTINGS),
  "ffn-skip",
  ...Object.keys(FFN_SKIP_SETTINGS),
  "speculative",
  "max-draft",
];

function numberAttribute(el: Element, name: string): number | undefined {
  const raw = el.getAttribute(name);
  if (raw === null || raw.trim() === "") return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value)) {
    throw new SkiffError("bad-argument", `Attribute ${name}="${raw}" of <${el.localName}> is not a number`);
  }
  return value;
}

/** The settings the element's attributes set; unset ones fall back to the engine's defaults. `ffn-skip` (a boolean
 *  attribute, "false" turns it off) enables FFN skipping with the `ffn-skip-*` knobs; `speculative="ngram"` or
 *  `"ffn-skip"` (with `max-draft`) enables speculative decoding. */
export function settingsFromAttributes(el: Element): Partial<GenerateSettings> {
  const numbers: Partial<Record<keyof GenerateSettings, number>> = {};
  for (const [attribute, setting] of Object.entries(NUMERIC_SETTINGS)) {
    const value = numberAttribute(el, attribute);
    if (value !== undefined) numbers[setting] = value;
  }
  const out = numbers as Partial<GenerateSettings>;
  const skip = el.getAttribute("ffn-skip");
  if (skip !== null && skip.trim().toLowerCase() !== "false") {
    const ffnSkip: Partial<FfnSkipSettings> = { enabled: true };
    for (const [attribute, setting] of Object.entries(FFN_SKIP_SETTINGS)) {
      const value = numberAttribute(el, attribute);
      if (value !== undefined) ffnSkip[setting] = value;
    }
    out.ffnSkip = ffnSkip;
  }
  const drafter = el.getAttribute("speculative");
  if (drafter !== null && drafter.trim() !== "") {
    const speculative: Partial<SpeculativeSettings> = { drafter: drafter.trim() as SpeculativeSettings["drafter"] };
    const maxDraft = numberAttribute(el, "max-draft");
    if (maxDraft !== undefined) speculative.maxDraft = maxDraft;
    out.speculative = speculative;
  }
  return out;
}

/** `context-length`: KV-cache capacity in tokens; unset means the engine's default (the model's, capped). */
export function contextLengthFromAttributes(el: Element): number | undefined {
  return numberAttribute(el, "context-length");
}

/** The prompt the model sees: the `system` text, when set, on its own line before the user's prompt. */
export function fullPrompt(system: string | null, prompt: string): string {
  return system ? `${system}\n${prompt}` : prompt;
}

/** A model attribute as a URL the worker can fetch: the worker resolves relative URLs against its own script. */
export function absoluteModelUrl(model: string, base: string): string {
  return new URL(model, base).href;
}

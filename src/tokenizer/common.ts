// What the SentencePiece and byte-level BPE tokenizers share: GGUF token types, matching special tokens in raw
// text, the end-of-turn ids, and a streaming decoder that never splits a UTF-8 character.
import { SkiffError } from "../errors.ts";
import type { GgufHeader } from "../loaders/gguf.ts";

/** `tokenizer.ggml.token_type` values (gguf docs). */
export enum TokenType {
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6,
}

export interface EncodeOptions {
  /** Default: what the vocabulary asks for (`tokenizer.ggml.add_bos_token` or llama.cpp's default). */
  addBos?: boolean;
  addEos?: boolean;
  /** Match control tokens (`<|eot_id|>`...) written in the text; default true. User-defined ones always match. */
  parseSpecial?: boolean;
}

export interface StreamDecoder {
  /** The text that token completes: only whole characters, so a multi-byte character may come a token late. */
  push(id: number): string;
  /** Whatever is left (an incomplete sequence becomes U+FFFD). */
  flush(): string;
}

/** Texts that end a turn in chat models, after llama.cpp's end-of-generation list. */
const END_OF_TURN_TEXTS = new Set([
  "<|eot_id|>",
  "<|eom_id|>",
  "<|im_end|>",
  "<|endoftext|>",
  "<|end_of_text|>",
  "<|end|>",
  "<end_of_turn>",
  "<EOT>",
]);

/** The eos id, the given extra ids (eot/eom keys) and every token whose text marks the end of a turn. */
export function endOfTurnIds(tokens: readonly string[], eosId: number, extra: readonly number[] = []): number[] {
  const ids = new Set<number>();
  for (const id of [eosId, ...extra]) if (id >= 0 && id < tokens.length) ids.add(id);
  tokens.forEach((t, id) => {
    if (END_OF_TURN_TEXTS.has(t)) ids.add(id);
  });
  return [...ids].sort((a, b) => a - b);
}

/**
 * Splits raw text around special tokens, leftmost match first and the longest one where several start at the
 * same place (as HF tokenizers' added-token matcher does). Candidates are bucketed by first character so plain
 * text costs one map lookup per character.
 */
export class SpecialMatcher {
  private readonly byFirst = new Map<string, { text: string; id: number }[]>();

  constructor(specials: Iterable<{ text: string; id: number }>) {
    for (const s of specials) {
      if (s.text.length === 0) continue;
      const list = this.byFirst.get(s.text[0]) ?? [];
      list.push(s);
      this.byFirst.set(s.text[0], list);
    }
    for (const list of this.byFirst.values()) list.sort((a, b) => b.text.length - a.text.length || a.id - b.id);
  }

  get empty(): boolean {
    return this.byFirst.size === 0;
  }

  /** Text fragments (never empty) and special token ids, in order. */
  split(text: string): (string | number)[] {
    if (this.empty) return text.length > 0 ? [text] : [];
    const parts: (string | number)[] = [];
    let start = 0;
    let i = 0;
    while (i < text.length) {
      const hit = this.byFirst.get(text[i])?.find((s) => text.startsWith(s.text, i));
      if (hit) {
        if (i > start) parts.push(text.slice(start, i));
        parts.push(hit.id);
        i += hit.text.length;
        start = i;
      } else i++;
    }
    if (start < text.length) parts.push(text.slice(start));
    return parts;
  }
}

/**
 * Streams token bytes through one UTF-8 decoder so a character split across tokens comes out whole.
 * `stripFirstSpace` drops a leading space from the first non-empty piece (SentencePiece's dummy prefix).
 */
export function utf8StreamDecoder(tokenBytes: (id: number) => Uint8Array, stripFirstSpace = false): StreamDecoder {
  const text = new TextDecoder("utf-8");
  let atStart = true;
  return {
    push: (id) => {
      let s = text.decode(tokenBytes(id), { stream: true });
      if (atStart && s.length > 0) {
        if (stripFirstSpace && s.startsWith(" ")) s = s.slice(1);
        atStart = false;
      }
      return s;
    },
    flush: () => text.decode(),
  };
}

/** The GGUF vocabulary fields both tokenizers read: the token texts (required), their types (Normal when the file
 *  has none) and a boolean flag reader with a fallback. */
export function ggufVocabBasics(h: GgufHeader): {
  tokens: string[];
  types: number[];
  flag(key: string, fallback: boolean): boolean;
} {
  const tokens = h.metadata.get("tokenizer.ggml.tokens");
  if (!Array.isArray(tokens) || tokens.some((t) => typeof t !== "string")) {
    throw new SkiffError("bad-gguf", "GGUF has no tokenizer.ggml.tokens list");
  }
  const n = tokens.length;
  const typesRaw = h.metadata.get("tokenizer.ggml.token_type");
  const types =
    typesRaw instanceof Int32Array && typesRaw.length === n
      ? Array.from(typesRaw)
      : new Array<number>(n).fill(TokenType.Normal);
  const flag = (key: string, fallback: boolean) => {
    const v = h.metadata.get(key);
    return typeof v === "boolean" ? v : fallback;
  };
  return { tokens: tokens as string[], types, flag };
}

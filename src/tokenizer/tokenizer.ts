// The tokenizer the engine sees, whatever the vocabulary: a stored spec (plain data, kept in IndexedDB with the
// model) read from GGUF metadata, and the tokenizer made from it.
import { SkiffError } from "../errors.ts";
import { metaString, type GgufHeader } from "../loaders/gguf.ts";
import { BpeTokenizer, bpeVocabFromGguf, type BpeVocab } from "./bpe.ts";
import type { EncodeOptions, StreamDecoder } from "./common.ts";
import { SpmTokenizer, spmVocabFromGguf, type SpmVocab } from "./spm.ts";

export { TokenType, type EncodeOptions, type StreamDecoder } from "./common.ts";

export interface Tokenizer {
  readonly vocabSize: number;
  /** -1 where the vocabulary has none. */
  readonly bosId: number;
  readonly eosId: number;
  /** Ids that end a turn (eos, `<|eot_id|>`, `<|im_end|>`, `<|endoftext|>`... where present): stop on any. */
  readonly eotIds: readonly number[];
  /** Whether `encode` starts with BOS unless told otherwise. */
  readonly addBos: boolean;
  encode(text: string, options?: EncodeOptions): number[];
  decode(ids: number[]): string;
  /** A streaming decoder that never returns half of a UTF-8 character. */
  decoder(): StreamDecoder;
  /** The bytes one token stands for (control tokens: none). */
  tokenBytes(id: number): Uint8Array;
}

/** Survives structured clone and JSON: arrays and primitives only. */
export type TokenizerSpec = ({ kind: "spm"; vocab: SpmVocab } | { kind: "bpe"; vocab: BpeVocab }) & {
  /** `tokenizer.chat_template` (Jinja), where the GGUF has one. */
  chatTemplate?: string;
};

/** Reads the vocabulary; refuses tokenizer models and BPE pre-tokenizers Skiff cannot run. */
export function tokenizerSpecFromGguf(h: GgufHeader): TokenizerSpec {
  const model = metaString(h, "tokenizer.ggml.model", "llama");
  const template = h.metadata.get("tokenizer.chat_template");
  const extra = typeof template === "string" ? { chatTemplate: template } : {};
  if (model === "llama") return { kind: "spm", vocab: spmVocabFromGguf(h), ...extra };
  if (model === "gpt2") return { kind: "bpe", vocab: bpeVocabFromGguf(h), ...extra };
  throw new SkiffError(
    "unsupported-tokenizer",
    `Tokenizer "${model}" (tokenizer.ggml.model) is not supported; Skiff reads "llama" (SentencePiece) and "gpt2" (byte-level BPE) vocabularies`,
  );
}

export function createTokenizer(spec: TokenizerSpec): Tokenizer {
  switch (spec.kind) {
    case "spm":
      return new SpmTokenizer(spec.vocab);
    case "bpe":
      return new BpeTokenizer(spec.vocab);
  }
}

// SentencePiece-style tokenizer (`tokenizer.ggml.model = llama`) built from GGUF metadata, following
// llama.cpp: spaces become U+2581, adjacent pieces merge by highest score, unknown pieces fall back to
// byte tokens `<0xNN>`, special (control / user-defined) tokens in the text are matched first.
import { SkiffError } from "../errors.ts";
import type { GgufHeader } from "../loaders/gguf.ts";
import {
  ggufVocabBasics,
  SpecialMatcher,
  TokenType,
  endOfTurnIds,
  utf8StreamDecoder,
  type EncodeOptions,
  type StreamDecoder,
} from "./common.ts";
import type { Tokenizer } from "./tokenizer.ts";

export { TokenType } from "./common.ts";

export const SPACE = "\u2581";

export interface SpmVocab {
  tokens: string[];
  /** Plain arrays from `spmVocabFromGguf`; typed arrays (older stored models) work too. */
  scores: ArrayLike<number>;
  types: ArrayLike<number>;
  bosId: number;
  eosId: number;
  unkId: number;
  addBos: boolean;
  addEos: boolean;
  addSpacePrefix: boolean;
  /** Ids that end a turn; absent in older stored models, then found from eos and the token texts. */
  eotIds?: number[];
}

export function spmVocabFromGguf(h: GgufHeader): SpmVocab {
  const { tokens, types, flag } = ggufVocabBasics(h);
  const n = tokens.length;
  const scoresRaw = h.metadata.get("tokenizer.ggml.scores");
  const scores =
    scoresRaw instanceof Float32Array && scoresRaw.length === n ? Array.from(scoresRaw) : new Array(n).fill(0);
  const num = (key: string, fallback: number) => {
    const v = h.metadata.get(key);
    return typeof v === "number" ? v : fallback;
  };
  const eosId = num("tokenizer.ggml.eos_token_id", 2);
  return {
    tokens,
    scores,
    types,
    bosId: num("tokenizer.ggml.bos_token_id", 1),
    eosId,
    unkId: num("tokenizer.ggml.unknown_token_id", 0),
    addBos: flag("tokenizer.ggml.add_bos_token", true),
    addEos: flag("tokenizer.ggml.add_eos_token", false),
    addSpacePrefix: flag("tokenizer.ggml.add_space_prefix", true),
    eotIds: endOfTurnIds(tokens as string[], eosId, [num("tokenizer.ggml.eot_token_id", -1)]),
  };
}

interface Symbol {
  text: string;
  prev: number;
  next: number;
}

export class SpmTokenizer implements Tokenizer {
  private readonly ids = new Map<string, number>();
  private readonly byteIds = new Int32Array(256).fill(-1);
  /** Control, unknown and user-defined tokens (parseSpecial) and user-defined only (otherwise), as llama.cpp. */
  private readonly allSpecials: SpecialMatcher;
  private readonly userSpecials: SpecialMatcher;
  readonly eotIds: readonly number[];

  constructor(readonly vocab: SpmVocab) {
    vocab.tokens.forEach((t, id) => {
      if (!this.ids.has(t)) this.ids.set(t, id);
      const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(t);
      if (m && vocab.types[id] === TokenType.Byte) this.byteIds[parseInt(m[1], 16)] = id;
    });
    const special = (...kinds: TokenType[]) =>
      vocab.tokens.flatMap((text, id) => (kinds.includes(vocab.types[id]) ? [{ text, id }] : []));
    this.allSpecials = new SpecialMatcher(special(TokenType.Control, TokenType.Unknown, TokenType.UserDefined));
    this.userSpecials = new SpecialMatcher(special(TokenType.UserDefined));
    this.eotIds = vocab.eotIds ?? endOfTurnIds(vocab.tokens, vocab.eosId);
  }

  get vocabSize(): number {
    return this.vocab.tokens.length;
  }
  get bosId(): number {
    return this.vocab.bosId;
  }
  get eosId(): number {
    return this.vocab.eosId;
  }
  get addBos(): boolean {
    return this.vocab.addBos;
  }

  /** Token ids for `text`, with BOS/EOS as the vocabulary asks unless overridden. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const out: number[] = [];
    if (options.addBos ?? this.vocab.addBos) out.push(this.vocab.bosId);
    const matcher = options.parseSpecial === false ? this.userSpecials : this.allSpecials;
    let first = true;
    for (const part of matcher.split(text)) {
      if (typeof part === "number") out.push(part);
      else {
        // The dummy space goes only before the first text fragment (HF's prepend_scheme "first").
        const prefixed = this.vocab.addSpacePrefix && first ? ` ${part}` : part;
        this.encodeFragment(prefixed.replaceAll(" ", SPACE), out);
      }
      first = false;
    }
    if (options.addEos ?? this.vocab.addEos) out.push(this.vocab.eosId);
    return out;
  }

  private encodeFragment(text: string, out: number[]): void {
    const chars = Array.from(text);
    const symbols: Symbol[] = chars.map((c, i) => ({ text: c, prev: i - 1, next: i + 1 < chars.length ? i + 1 : -1 }));
    // Repeatedly merge the best-scoring adjacent pair; ties go to the leftmost, as llama.cpp's queue does.
    for (;;) {
      let best = -1;
      let bestScore = -Infinity;
      for (let i = 0; i !== -1 && i < symbols.length; i = symbols[i].next) {
        const j = symbols[i].next;
        if (j === -1) break;
        const id = this.ids.get(symbols[i].text + symbols[j].text);
        if (id === undefined) continue;
        const score = this.vocab.scores[id];
        if (score > bestScore) {
          bestScore = score;
          best = i;
        }
      }
      if (best === -1) break;
      const right = symbols[best].next;
      symbols[best].text += symbols[right].text;
      symbols[best].next = symbols[right].next;
      if (symbols[right].next !== -1) symbols[symbols[right].next].prev = best;
      symbols[right].text = "";
    }
    for (let i = 0; i !== -1 && i < symbols.length; i = symbols[i].next) {
      const id = this.ids.get(symbols[i].text);
      if (id !== undefined && this.vocab.types[id] !== TokenType.Unused) out.push(id);
      else this.byteFallback(symbols[i].text, out);
    }
  }

  private byteFallback(piece: string, out: number[]): void {
    for (const b of new TextEncoder().encode(piece)) {
      const id = this.byteIds[b];
      out.push(id >= 0 ? id : this.vocab.unkId);
    }
  }

  /** The bytes a token stands for: control tokens render as nothing, byte tokens as their byte. */
  tokenBytes(id: number): Uint8Array {
    const type = this.vocab.types[id];
    const piece = this.vocab.tokens[id];
    if (piece === undefined || type === TokenType.Control || type === TokenType.Unknown || type === TokenType.Unused) {
      return new Uint8Array(0);
    }
    if (type === TokenType.Byte) {
      const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(piece);
      if (m) return new Uint8Array([parseInt(m[1], 16)]);
    }
    return new TextEncoder().encode(piece.replaceAll(SPACE, " "));
  }

  decode(ids: number[]): string {
    const d = this.decoder();
    return ids.map((id) => d.push(id)).join("") + d.flush();
  }

  /** A streaming decoder: `push` returns only complete characters; the dummy prefix space is dropped. */
  decoder(): StreamDecoder {
    return utf8StreamDecoder((id) => this.tokenBytes(id), this.vocab.addSpacePrefix);
  }
}

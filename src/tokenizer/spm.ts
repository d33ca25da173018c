// SentencePiece-style tokenizer (`tokenizer.ggml.model = llama`) built from GGUF metadata, following
// llama.cpp: spaces become U+2581, adjacent pieces merge by highest score, unknown pieces fall back to
// byte tokens `<0xNN>`, special (control / user-defined) tokens in the text are matched first.
import { SkiffError } from "../errors.ts";
import type { GgufHeader } from "../loaders/gguf.ts";

export const SPACE = "\u2581";

export enum TokenType {
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6,
}

export interface SpmVocab {
  tokens: string[];
  scores: Float32Array;
  types: Int32Array;
  bosId: number;
  eosId: number;
  unkId: number;
  addBos: boolean;
  addEos: boolean;
  addSpacePrefix: boolean;
}

export function spmVocabFromGguf(h: GgufHeader): SpmVocab {
  const tokens = h.metadata.get("tokenizer.ggml.tokens");
  if (!Array.isArray(tokens) || tokens.some((t) => typeof t !== "string")) {
    throw new SkiffError("bad-gguf", "GGUF has no tokenizer.ggml.tokens list");
  }
  const n = tokens.length;
  const scoresRaw = h.metadata.get("tokenizer.ggml.scores");
  const typesRaw = h.metadata.get("tokenizer.ggml.token_type");
  const scores = scoresRaw instanceof Float32Array && scoresRaw.length === n ? scoresRaw : new Float32Array(n);
  const types =
    typesRaw instanceof Int32Array && typesRaw.length === n ? typesRaw : new Int32Array(n).fill(TokenType.Normal);
  const num = (key: string, fallback: number) => {
    const v = h.metadata.get(key);
    return typeof v === "number" ? v : fallback;
  };
  const flag = (key: string, fallback: boolean) => {
    const v = h.metadata.get(key);
    return typeof v === "boolean" ? v : fallback;
  };
  return {
    tokens: tokens as string[],
    scores,
    types,
    bosId: num("tokenizer.ggml.bos_token_id", 1),
    eosId: num("tokenizer.ggml.eos_token_id", 2),
    unkId: num("tokenizer.ggml.unknown_token_id", 0),
    addBos: flag("tokenizer.ggml.add_bos_token", true),
    addEos: flag("tokenizer.ggml.add_eos_token", false),
    addSpacePrefix: flag("tokenizer.ggml.add_space_prefix", true),
  };
}

interface Symbol {
  text: string;
  prev: number;
  next: number;
}

export class SpmTokenizer {
  private readonly ids = new Map<string, number>();
  private readonly byteIds = new Int32Array(256).fill(-1);
  /** Control and user-defined tokens, longest first, matched in raw text before merging. */
  private readonly specials: string[];

  constructor(readonly vocab: SpmVocab) {
    vocab.tokens.forEach((t, id) => {
      if (!this.ids.has(t)) this.ids.set(t, id);
      const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(t);
      if (m && vocab.types[id] === TokenType.Byte) this.byteIds[parseInt(m[1], 16)] = id;
    });
    this.specials = vocab.tokens
      .filter(
        (t, id) => (vocab.types[id] === TokenType.Control || vocab.types[id] === TokenType.UserDefined) && t.length > 0,
      )
      .sort((a, b) => b.length - a.length);
  }

  get vocabSize(): number {
    return this.vocab.tokens.length;
  }

  /** Token ids for `text`, with BOS/EOS as the vocabulary asks unless overridden. */
  encode(text: string, options: { addBos?: boolean; addEos?: boolean; parseSpecial?: boolean } = {}): number[] {
    const out: number[] = [];
    if (options.addBos ?? this.vocab.addBos) out.push(this.vocab.bosId);
    const parts = options.parseSpecial === false ? [text] : this.splitSpecials(text);
    let first = true;
    for (const part of parts) {
      const special = typeof part === "number";
      if (special) out.push(part);
      else if (part.length > 0) {
        // llama.cpp adds the dummy space only before the first text fragment.
        const prefixed = this.vocab.addSpacePrefix && first ? ` ${part}` : part;
        this.encodeFragment(prefixed.replaceAll(" ", SPACE), out);
      }
      first = false;
    }
    if (options.addEos ?? this.vocab.addEos) out.push(this.vocab.eosId);
    return out;
  }

  private splitSpecials(text: string): (string | number)[] {
    if (this.specials.length === 0) return [text];
    const parts: (string | number)[] = [];
    let start = 0;
    let i = 0;
    while (i < text.length) {
      const hit = this.specials.find((s) => text.startsWith(s, i));
      if (hit) {
        parts.push(text.slice(start, i), this.ids.get(hit)!);
        i += hit.length;
        start = i;
      } else i++;
    }
    parts.push(text.slice(start));
    return parts;
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

  /** A streaming decoder: `push` returns only complete characters, never half of a UTF-8 sequence. */
  decoder(): { push(id: number): string; flush(): string } {
    const text = new TextDecoder("utf-8");
    let atStart = true;
    return {
      push: (id) => {
        let s = text.decode(this.tokenBytes(id), { stream: true });
        // The dummy prefix space of the first piece is not part of the text.
        if (atStart && s.length > 0) {
          if (this.vocab.addSpacePrefix && s.startsWith(" ")) s = s.slice(1);
          atStart = false;
        }
        return s;
      },
      flush: () => text.decode(),
    };
  }
}

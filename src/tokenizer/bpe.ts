// Byte-level BPE tokenizer (`tokenizer.ggml.model = gpt2`: Llama 3, Qwen2, SmolLM, GPT-2) built from GGUF
// metadata, following llama.cpp's llm_tokenizer_bpe: special tokens are cut out of the raw text first, the rest
// is split by the pre-tokenizer regexes, each word's UTF-8 bytes are spelled in GPT-2's byte alphabet, and
// adjacent symbols merge lowest merge rank first (leftmost on ties).
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
import { preTokenize, preTokenizerFor, type PreTokenizer } from "./pretokenize.ts";
import type { Tokenizer } from "./tokenizer.ts";

/** Everything the tokenizer needs, as plain arrays (it is stored in IndexedDB with the model). */
export interface BpeVocab {
  /** Token texts; normal tokens are spelled in GPT-2's byte alphabet ("Ġ" is a space). */
  tokens: string[];
  /** `TokenType` per token. */
  types: number[];
  /** "left right" pairs; the index is the rank (lower merges first). */
  merges: string[];
  /** `tokenizer.ggml.pre` ("default" when the key is absent). */
  pre: string;
  /** -1 where the vocabulary has none. */
  bosId: number;
  eosId: number;
  unkId: number;
  padId: number;
  /** Ids that end a turn: eos, eot/eom and the usual end-of-turn texts. */
  eotIds: number[];
  addBos: boolean;
  addEos: boolean;
}

/** GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the rest map to U+0100 upwards. */
const BYTE_TO_CHAR: string[] = [];
const CHAR_TO_BYTE = new Map<string, number>();
{
  let next = 256;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    BYTE_TO_CHAR[b] = String.fromCharCode(printable ? b : next++);
    CHAR_TO_BYTE.set(BYTE_TO_CHAR[b], b);
  }
}

/** The GPT-2 byte-alphabet spelling of `bytes`. */
export function byteLevelEncode(bytes: Iterable<number>): string {
  let out = "";
  for (const b of bytes) out += BYTE_TO_CHAR[b];
  return out;
}

/** The UTF-8 of `text` spelled one byte-alphabet character per byte; lone surrogates become U+FFFD. */
function utf8ByteLevel(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    let cp = text.charCodeAt(i);
    if (cp < 0x80) {
      out += BYTE_TO_CHAR[cp];
      continue;
    }
    if (cp >= 0xd800 && cp <= 0xdfff) {
      const low = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (cp <= 0xdbff && low >= 0xdc00 && low <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        i++;
      } else cp = 0xfffd;
    }
    if (cp < 0x800) out += BYTE_TO_CHAR[0xc0 | (cp >> 6)] + BYTE_TO_CHAR[0x80 | (cp & 63)];
    else if (cp < 0x10000) {
      out += BYTE_TO_CHAR[0xe0 | (cp >> 12)] + BYTE_TO_CHAR[0x80 | ((cp >> 6) & 63)] + BYTE_TO_CHAR[0x80 | (cp & 63)];
    } else {
      out +=
        BYTE_TO_CHAR[0xf0 | (cp >> 18)] +
        BYTE_TO_CHAR[0x80 | ((cp >> 12) & 63)] +
        BYTE_TO_CHAR[0x80 | ((cp >> 6) & 63)] +
        BYTE_TO_CHAR[0x80 | (cp & 63)];
    }
  }
  return out;
}

export function bpeVocabFromGguf(h: GgufHeader): BpeVocab {
  const { tokens, types, flag } = ggufVocabBasics(h);
  const merges = h.metadata.get("tokenizer.ggml.merges");
  if (!Array.isArray(merges) || merges.some((m) => typeof m !== "string")) {
    throw new SkiffError("bad-gguf", "GGUF BPE vocabulary has no tokenizer.ggml.merges list");
  }
  const n = tokens.length;
  const preRaw = h.metadata.get("tokenizer.ggml.pre");
  const pre = typeof preRaw === "string" && preRaw.length > 0 ? preRaw : "default";
  const preTokenizer = preTokenizerFor(pre);
  // llama.cpp's defaults for a gpt2 vocabulary: bos = eos = 11 (when in range), no unk or pad.
  const id = (key: string, fallback: number) => {
    const v = h.metadata.get(key);
    if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v < n) return v;
    return fallback >= 0 && fallback < n ? fallback : -1;
  };
  const eosId = id("tokenizer.ggml.eos_token_id", 11);
  return {
    tokens,
    types,
    merges: merges as string[],
    pre,
    bosId: id("tokenizer.ggml.bos_token_id", 11),
    eosId,
    unkId: id("tokenizer.ggml.unknown_token_id", -1),
    padId: id("tokenizer.ggml.padding_token_id", -1),
    eotIds: endOfTurnIds(tokens, eosId, [id("tokenizer.ggml.eot_token_id", -1), id("tokenizer.ggml.eom_token_id", -1)]),
    addBos: flag("tokenizer.ggml.add_bos_token", preTokenizer.addBos),
    addEos: flag("tokenizer.ggml.add_eos_token", false),
  };
}

/** One candidate merge of the symbols at `left` and `right`, valid while both still have the recorded lengths. */
interface Bigram {
  rank: number;
  left: number;
  right: number;
  leftLen: number;
  rightLen: number;
}

/** Min-heap order: lower rank first, then the leftmost pair, as llama.cpp's queue pops them. */
function before(a: Bigram, b: Bigram): boolean {
  return a.rank < b.rank || (a.rank === b.rank && a.left < b.left);
}

class BigramHeap {
  private readonly items: Bigram[] = [];
  get size(): number {
    return this.items.length;
  }
  push(b: Bigram): void {
    const h = this.items;
    h.push(b);
    for (let i = h.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!before(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }
  pop(): Bigram {
    const h = this.items;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l], h[m])) m = l;
        if (r < h.length && before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

/** Words seen before are not merged again; the cache is dropped whole when it fills. */
const WORD_CACHE_LIMIT = 1 << 16;

export class BpeTokenizer implements Tokenizer {
  private readonly ids = new Map<string, number>();
  private readonly ranks = new Map<string, number>();
  private readonly byteIds = new Int32Array(256).fill(-1);
  private readonly pre: PreTokenizer;
  /** Control, unknown and user-defined tokens (parseSpecial) and user-defined only (otherwise). */
  private readonly allSpecials: SpecialMatcher;
  private readonly userSpecials: SpecialMatcher;
  private readonly wordCache = new Map<string, number[]>();

  constructor(readonly vocab: BpeVocab) {
    this.pre = preTokenizerFor(vocab.pre);
    vocab.tokens.forEach((t, id) => {
      if (!this.ids.has(t)) this.ids.set(t, id);
    });
    vocab.merges.forEach((m, rank) => {
      if (!this.ranks.has(m)) this.ranks.set(m, rank);
    });
    for (let b = 0; b < 256; b++) this.byteIds[b] = this.ids.get(BYTE_TO_CHAR[b]) ?? -1;
    const special = (...kinds: TokenType[]) =>
      vocab.tokens.flatMap((text, id) => (kinds.includes(vocab.types[id]) ? [{ text, id }] : []));
    this.allSpecials = new SpecialMatcher(special(TokenType.Control, TokenType.Unknown, TokenType.UserDefined));
    this.userSpecials = new SpecialMatcher(special(TokenType.UserDefined));
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
  get eotIds(): readonly number[] {
    return this.vocab.eotIds;
  }
  get addBos(): boolean {
    return this.vocab.addBos;
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const out: number[] = [];
    if ((options.addBos ?? this.vocab.addBos) && this.vocab.bosId >= 0) out.push(this.vocab.bosId);
    const matcher = options.parseSpecial === false ? this.userSpecials : this.allSpecials;
    for (const part of matcher.split(text)) {
      if (typeof part === "number") out.push(part);
      else for (const word of preTokenize(part, this.pre)) this.encodeWord(utf8ByteLevel(word), out);
    }
    if ((options.addEos ?? this.vocab.addEos) && this.vocab.eosId >= 0) out.push(this.vocab.eosId);
    return out;
  }

  private encodeWord(word: string, out: number[]): void {
    let ids = this.wordCache.get(word);
    if (!ids) {
      const whole = this.pre.ignoreMerges ? this.ids.get(word) : undefined;
      ids = whole !== undefined ? [whole] : this.merge(word);
      if (this.wordCache.size >= WORD_CACHE_LIMIT) this.wordCache.clear();
      this.wordCache.set(word, ids);
    }
    for (const id of ids) out.push(id);
  }

  /** BPE over one byte-alphabet word (one character per byte): symbols are [start, start + len) slices. */
  private merge(word: string): number[] {
    const n = word.length;
    const len = new Int32Array(n).fill(1);
    const prev = Int32Array.from({ length: n }, (_, i) => i - 1);
    const next = Int32Array.from({ length: n }, (_, i) => (i + 1 < n ? i + 1 : -1));
    const heap = new BigramHeap();
    const consider = (left: number, right: number) => {
      if (left < 0 || right < 0) return;
      const key = `${word.slice(left, left + len[left])} ${word.slice(right, right + len[right])}`;
      const rank = this.ranks.get(key);
      if (rank !== undefined) heap.push({ rank, left, right, leftLen: len[left], rightLen: len[right] });
    };
    for (let i = 0; i + 1 < n; i++) consider(i, i + 1);
    while (heap.size > 0) {
      const b = heap.pop();
      // A pair is stale once either side merged with something else.
      if (len[b.left] !== b.leftLen || len[b.right] !== b.rightLen || next[b.left] !== b.right) continue;
      len[b.left] += len[b.right];
      len[b.right] = 0;
      next[b.left] = next[b.right];
      if (next[b.right] >= 0) prev[next[b.right]] = b.left;
      consider(prev[b.left], b.left);
      consider(b.left, next[b.left]);
    }
    const ids: number[] = [];
    for (let i = 0; i >= 0 && i < n; i = next[i]) {
      const piece = word.slice(i, i + len[i]);
      const id = this.ids.get(piece);
      if (id !== undefined) ids.push(id);
      else {
        // A symbol that is no token falls back to its bytes; a vocabulary without a byte drops it, as llama.cpp does.
        for (let k = 0; k < piece.length; k++) {
          const byteId = this.byteIds[CHAR_TO_BYTE.get(piece[k]) ?? 0];
          if (byteId >= 0) ids.push(byteId);
        }
      }
    }
    return ids;
  }

  /** The bytes a token stands for: control, unknown and unused tokens render as nothing. */
  tokenBytes(id: number): Uint8Array {
    const piece = this.vocab.tokens[id];
    const type = this.vocab.types[id];
    if (piece === undefined) return new Uint8Array(0);
    if (type === TokenType.UserDefined) return new TextEncoder().encode(piece);
    if (type === TokenType.Byte) {
      const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(piece);
      return m ? new Uint8Array([parseInt(m[1], 16)]) : new Uint8Array(0);
    }
    if (type !== TokenType.Normal) return new Uint8Array(0);
    const bytes: number[] = [];
    for (const ch of piece) {
      const b = CHAR_TO_BYTE.get(ch);
      // A character outside the byte alphabet is kept as its own UTF-8 rather than dropped.
      if (b !== undefined) bytes.push(b);
      else bytes.push(...new TextEncoder().encode(ch));
    }
    return new Uint8Array(bytes);
  }

  decode(ids: number[]): string {
    const d = this.decoder();
    return ids.map((id) => d.push(id)).join("") + d.flush();
  }

  decoder(): StreamDecoder {
    return utf8StreamDecoder((id) => this.tokenBytes(id));
  }
}

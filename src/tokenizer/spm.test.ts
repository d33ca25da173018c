// SPM tokenizer on the stories260K vocabulary and on a small vocabulary with merges.
import { describe, expect, test } from "vitest";
import { readFileSync } from "node:fs";
import { parseGgufHeader } from "../loaders/gguf.ts";
import { SPACE, SpmTokenizer, TokenType, spmVocabFromGguf, type SpmVocab } from "./spm.ts";
import { createTokenizer, tokenizerSpecFromGguf } from "./tokenizer.ts";

const gguf = new Uint8Array(readFileSync(new URL("../../../shared/models/stories260K-q8_0.gguf", import.meta.url)));
const storiesHeader = parseGgufHeader(gguf, gguf.byteLength);
const stories = new SpmTokenizer(spmVocabFromGguf(storiesHeader));

function vocab(pieces: [string, number, TokenType?][], addSpacePrefix = true): SpmVocab {
  const all: [string, number, TokenType?][] = [
    ["<unk>", 0, TokenType.Unknown],
    ["<s>", 0, TokenType.Control],
    ["</s>", 0, TokenType.Control],
    ...Array.from(
      { length: 256 },
      (_, b) =>
        [`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`, 0, TokenType.Byte] as [string, number, TokenType],
    ),
    ...pieces,
  ];
  return {
    tokens: all.map((p) => p[0]),
    scores: new Float32Array(all.map((p) => p[1])),
    types: new Int32Array(all.map((p) => p[2] ?? TokenType.Normal)),
    bosId: 1,
    eosId: 2,
    unkId: 0,
    addBos: true,
    addEos: false,
    addSpacePrefix,
  };
}

describe("spm tokenizer", () => {
  test("stories260K: ASCII without spaces is byte tokens (id = 3 + byte) after BOS", () => {
    expect(stories.encode("Hi!")).toEqual([1, 3 + 72, 3 + 105, 3 + 33]);
    expect(stories.decode([1, 3 + 72, 3 + 105, 3 + 33, 2])).toBe("Hi!");
  });

  test("merges by score, leftmost on ties, and byte-falls back for unknown characters", () => {
    const t = new SpmTokenizer(
      vocab([
        [`${SPACE}h`, -3],
        ["he", -1],
        ["ll", -2],
        ["hell", -0.5],
        [`${SPACE}hell`, -0.1],
        ["o", -5],
        ["h", -5],
        ["e", -5],
        ["l", -5],
        [SPACE, -5],
      ]),
    );
    const ids = t.encode("hello é");
    const pieces = ids.map((id) => t.vocab.tokens[id]);
    expect(pieces).toEqual(["<s>", `${SPACE}hell`, "o", SPACE, "<0xC3>", "<0xA9>"]);
    expect(t.decode(ids)).toBe("hello é");
  });

  test("special tokens in the text are matched as themselves", () => {
    const t = new SpmTokenizer(
      vocab(
        [
          ["<|im_end|>", 0, TokenType.UserDefined],
          ["a", -1],
        ],
        false,
      ),
    );
    const ids = t.encode("a<|im_end|>a", { addBos: false });
    expect(ids.map((id) => t.vocab.tokens[id])).toEqual(["a", "<|im_end|>", "a"]);
    // User-defined tokens match even without parseSpecial (as llama.cpp); control tokens do not.
    expect(t.encode("<|im_end|>", { addBos: false, parseSpecial: false })).toEqual(ids.slice(1, 2));
    expect(t.encode("<s>", { addBos: false, parseSpecial: false })).not.toEqual([1]);
    expect(t.encode("<s>", { addBos: false })).toEqual([1]);
    expect(t.eotIds).toEqual([2, ids[1]]);
  });

  test("the GGUF spec survives JSON and makes the same tokenizer", () => {
    const spec = tokenizerSpecFromGguf(storiesHeader);
    expect(spec.kind).toBe("spm");
    const t = createTokenizer(JSON.parse(JSON.stringify(spec)));
    const text = "Once upon a time, Lily saw a big dog.";
    const ids = t.encode(text);
    expect(ids).toEqual(stories.encode(text));
    expect(t.decode(ids)).toBe(stories.decode(ids));
    expect([t.bosId, t.eosId, t.addBos, t.vocabSize]).toEqual([1, 2, true, stories.vocabSize]);
    expect(t.eotIds).toEqual([2]);
  });

  test("streaming decode never splits a multi-byte character", () => {
    const text = "ü€😀";
    const ids = stories.encode(text, { addBos: false });
    expect(ids.length).toBe(new TextEncoder().encode(text).length);
    const d = stories.decoder();
    const pieces = ids.map((id) => d.push(id));
    expect(pieces.every((p) => !p.includes("\uFFFD"))).toBe(true);
    expect(pieces.join("") + d.flush()).toBe(text);
    expect(pieces.filter((p) => p.length > 0)).toEqual(["ü", "€", "😀"]);
  });
});

// SPM tokenizer on the stories260K vocabulary and on a small vocabulary with merges.
import { describe, expect, test } from "vitest";
import { readFileSync } from "node:fs";
import { parseGgufHeader } from "../loaders/gguf.ts";
import { SPACE, SpmTokenizer, TokenType, spmVocabFromGguf, type SpmVocab } from "./spm.ts";

const gguf = new Uint8Array(readFileSync(new URL("../../../shared/models/stories260K-q8_0.gguf", import.meta.url)));
const stories = new SpmTokenizer(spmVocabFromGguf(parseGgufHeader(gguf, gguf.byteLength)));

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

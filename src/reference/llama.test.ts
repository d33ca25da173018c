// The CPU reference model on stories260K from its llama2.c checkpoint.
import { describe, expect, test } from "vitest";
import { readFileSync } from "node:fs";
import { readLlama2c } from "../loaders/llama2c.ts";
import { ReferenceLlama, greedyReference } from "./llama.ts";

const bin = new Uint8Array(readFileSync(new URL("../../../shared/models/stories260K.bin", import.meta.url)));

describe("reference llama on stories260K.bin", () => {
  test("reads the checkpoint's config", () => {
    const { config } = readLlama2c(bin);
    expect(config).toMatchObject({
      dim: 64,
      hiddenDim: 172,
      nLayers: 5,
      nHeads: 8,
      nKvHeads: 4,
      vocabSize: 512,
      seqLen: 512,
    });
    expect(config.tiedOutput).toBe(true);
  });
  test("greedy story from BOS is deterministic and not degenerate", () => {
    const { config, weights } = readLlama2c(bin);
    const ids = greedyReference(new ReferenceLlama(config, weights), [1], 40);
    console.log("stories260K greedy ids:", ids.join(" "));
    expect(greedyReference(new ReferenceLlama(config, weights), [1], 40)).toEqual(ids);
    expect(new Set(ids).size).toBeGreaterThan(10);
  });
});

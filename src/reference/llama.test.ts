// The CPU reference model on stories260K from its llama2.c checkpoint.
import { describe, expect, test } from "vitest";
import { readFileSync } from "node:fs";
import { readLlama2c } from "../loaders/llama2c.ts";
import { ReferenceLlama, greedyReference } from "./llama.ts";
import { referenceWeightsFromGguf } from "./gguf-weights.ts";

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
  test("the GGUF conversion gives the same model: logits equal to the checkpoint's", () => {
    const fromBin = readLlama2c(bin);
    const gguf = new Uint8Array(readFileSync(new URL("../../../shared/models/stories260K-f32.gguf", import.meta.url)));
    const fromGguf = referenceWeightsFromGguf(gguf);
    const a = new ReferenceLlama(fromBin.config, fromBin.weights);
    const b = new ReferenceLlama(fromGguf.config, fromGguf.weights);
    for (const [pos, token] of [1, 300, 42, 7].entries()) {
      const la = a.forward(token, pos);
      const lb = b.forward(token, pos);
      for (let i = 0; i < la.length; i++) expect(Math.abs(la[i] - lb[i])).toBeLessThan(1e-9);
    }
  });
});

// The CPU reference model on stories260K from its llama2.c checkpoint.
import { describe, expect, test } from "vitest";
import { readFileSync } from "node:fs";
import { readLlama2c } from "../loaders/llama2c.ts";
import { ReferenceLlama, greedyReference } from "./forward.ts";
import { referenceWeightsFromGguf } from "./gguf-weights.ts";
import golden from "./fixtures/stories260k-golden.json";

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
  test("golden: 50 greedy ids from BOS, from the checkpoint and from the f32 GGUF", () => {
    const fromBin = readLlama2c(bin);
    expect(greedyReference(new ReferenceLlama(fromBin.config, fromBin.weights), golden.prompt, 50)).toEqual(golden.ids);
    const gguf = new Uint8Array(readFileSync(new URL("../../../shared/models/stories260K-f32.gguf", import.meta.url)));
    const fromGguf = referenceWeightsFromGguf(gguf);
    expect(greedyReference(new ReferenceLlama(fromGguf.config, fromGguf.weights), golden.prompt, 50)).toEqual(
      golden.ids,
    );
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

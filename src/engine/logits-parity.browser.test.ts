// Logits of the GPU graph against the float64 CPU reference, step by step over 64 tokens on the same weights,
// with both fed the same tokens (the reference's greedy choices). Greedy ids must agree wherever the
// reference's top-two margin is larger than the stated error; closer calls are reported, not compared.
import { describe, expect, test } from "vitest";
import q4Url from "../../../shared/models/stories260K-q4_0.gguf?url";
import q8Url from "../../../shared/models/stories260K-q8_0.gguf?url";
import f16Url from "../../../shared/models/stories260K-f16.gguf?url";
import f32Url from "../../../shared/models/stories260K-f32.gguf?url";
import { checkLogits as checkParity } from "./parity-testing.ts";
import { syntheticLlamaGguf, type SyntheticLlamaOptions } from "../loaders/synthetic-model.ts";

/** Normalised logit error allowed: f32 accumulation over a few hundred terms per dot product, a few layers. */
const LOGIT_TOLERANCE = 2e-4;
const STEPS = 64;

const checkLogits = (bytes: Uint8Array, prompt: number[]) =>
  checkParity(bytes, prompt, { steps: STEPS, tolerance: LOGIT_TOLERANCE, prefillChunk: 8 });

describe("GPU logits equal the CPU reference over 64 steps", () => {
  for (const [type, url] of [
    ["f32", f32Url],
    ["f16", f16Url],
    ["q8_0", q8Url],
    ["q4_0", q4Url],
  ] as const) {
    test(`stories260K-${type}`, async () => {
      const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
      const r = await checkLogits(bytes, [1, 300, 301, 302, 310, 40, 50, 60, 70, 80, 90]);
      console.log(`stories260K-${type}: ${r.compared} greedy ids compared, ${r.skipped} near-ties not compared`);
      expect(r.compared).toBeGreaterThan(STEPS / 2);
    });
  }

  const synthetic: [string, SyntheticLlamaOptions][] = [
    [
      "q4_0 GQA 3:1, untied, dim 96",
      {
        dim: 96,
        hiddenDim: 200,
        nLayers: 2,
        nHeads: 6,
        nKvHeads: 2,
        vocabSize: 310,
        seqLen: 256,
        type: "q4_0",
        seed: 21,
      },
    ],
    [
      "q8_0 no GQA, tied, dim 160",
      {
        dim: 160,
        hiddenDim: 336,
        nLayers: 2,
        nHeads: 5,
        nKvHeads: 5,
        vocabSize: 290,
        seqLen: 256,
        type: "q8_0",
        seed: 22,
        tiedOutput: true,
      },
    ],
    [
      "f16 GQA 2:1, untied, hidden 100",
      {
        dim: 64,
        hiddenDim: 100,
        nLayers: 3,
        nHeads: 4,
        nKvHeads: 2,
        vocabSize: 275,
        seqLen: 256,
        type: "f16",
        seed: 23,
      },
    ],
    [
      "f32 GQA 4:1, tied, head 40",
      {
        dim: 160,
        hiddenDim: 224,
        nLayers: 2,
        nHeads: 4,
        nKvHeads: 1,
        vocabSize: 263,
        seqLen: 256,
        type: "f32",
        seed: 24,
        tiedOutput: true,
      },
    ],
    [
      "q8_0 with rope_freqs and partial rotary (nRot 16 of 32)",
      {
        dim: 128,
        hiddenDim: 256,
        nLayers: 2,
        nHeads: 4,
        nKvHeads: 2,
        vocabSize: 280,
        seqLen: 256,
        type: "q8_0",
        seed: 25,
        ropeFreqs: true,
        nRot: 16,
      },
    ],
  ];
  for (const [name, options] of synthetic) {
    test(`synthetic ${name}`, async () => {
      const r = await checkLogits(syntheticLlamaGguf(options), [1, 100, 120, 140, 160, 180, 200, 220, 240, 260]);
      console.log(`synthetic ${name}: ${r.compared} greedy ids compared, ${r.skipped} near-ties not compared`);
      expect(r.compared).toBeGreaterThan(0);
    });
  }
});

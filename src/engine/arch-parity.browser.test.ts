// qwen2 and Llama 3.x-style synthetic models on the GPU against the float64 reference: q/k/v biases, the halves
// RoPE layout, GQA, tied and untied output, head sizes off every tile, llama3 RoPE scaling from metadata, and a
// vocabulary whose embedding and output matrices are split by rows under a lowered binding limit.
import { describe, expect, test } from "vitest";
import { checkLogits } from "./parity-testing.ts";
import { loadGpuModel } from "./gpu-model.ts";
import { testContext } from "../kernels/testing.ts";
import { ModelStore } from "../storage/model-store.ts";
import { importGguf } from "../storage/import-gguf.ts";
import { SkiffError } from "../errors.ts";
import { syntheticLlamaGguf, type SyntheticLlamaOptions } from "../loaders/synthetic-model.ts";
import type { GpuWeight } from "../kernels/weights.ts";
import type { RopeScaling } from "../models/llama-config.ts";

/** Normalised logit error allowed: f32 accumulation over a few hundred terms per dot product, a few layers. */
const LOGIT_TOLERANCE = 2e-4;
const STEPS = 16;
const PROMPT = [1, 100, 120, 140, 160, 180, 200, 220, 240, 260];

/** Llama 3.1's scaling with a short original context, so that positions under 30 reach all three bands. */
const LLAMA3: RopeScaling = {
  type: "llama3",
  factor: 8,
  lowFreqFactor: 1,
  highFreqFactor: 4,
  originalContextLength: 64,
};

const qwen2: [string, SyntheticLlamaOptions][] = [
  [
    "q8_0, GQA 4:1, head 12, untied",
    {
      architecture: "qwen2",
      dim: 96,
      hiddenDim: 160,
      nLayers: 2,
      nHeads: 8,
      nKvHeads: 2,
      vocabSize: 300,
      seqLen: 256,
      type: "q8_0",
      seed: 31,
      ropeTheta: 1e6,
    },
  ],
  [
    "q4_0, GQA 4:1, tied, partial rotary (8 of 16)",
    {
      architecture: "qwen2",
      dim: 64,
      hiddenDim: 96,
      nLayers: 2,
      nHeads: 4,
      nKvHeads: 1,
      vocabSize: 290,
      seqLen: 256,
      type: "q4_0",
      seed: 32,
      tiedOutput: true,
      nRot: 8,
    },
  ],
  [
    "f16, no GQA, head 12, dim 60, hidden 100, untied",
    {
      architecture: "qwen2",
      dim: 60,
      hiddenDim: 100,
      nLayers: 3,
      nHeads: 5,
      nKvHeads: 5,
      vocabSize: 275,
      seqLen: 256,
      type: "f16",
      seed: 33,
    },
  ],
];

describe("qwen2 on the GPU equals the CPU reference", () => {
  for (const [name, options] of qwen2) {
    test(name, async () => {
      const r = await checkLogits(syntheticLlamaGguf(options), PROMPT, { steps: STEPS, tolerance: LOGIT_TOLERANCE });
      console.log(`qwen2 ${name}: ${r.compared} greedy ids compared, ${r.skipped} near-ties, error ${r.worstError}`);
      expect(r.compared).toBeGreaterThan(STEPS / 2);
    });
  }
});

describe("Llama 3.x-style models on the GPU equal the CPU reference", () => {
  test("llama3 scaling metadata, GQA 2:1, q8_0, untied", async () => {
    const options: SyntheticLlamaOptions = {
      dim: 64,
      hiddenDim: 128,
      nLayers: 2,
      nHeads: 4,
      nKvHeads: 2,
      vocabSize: 280,
      seqLen: 256,
      type: "q8_0",
      seed: 41,
      ropeTheta: 500000,
      ropeScaling: LLAMA3,
    };
    const r = await checkLogits(syntheticLlamaGguf(options), PROMPT, { steps: STEPS, tolerance: LOGIT_TOLERANCE });
    expect(r.compared).toBeGreaterThan(STEPS / 2);
  });

  // 3000 x 64 f16 is 375 KiB per matrix; a 64 KiB binding takes 512 rows, so each is split into 6 chunks.
  for (const tiedOutput of [true, false]) {
    test(`vocabulary of 3000 split by rows under a 64 KiB binding limit, llama3 scaling, f16, ${tiedOutput ? "tied" : "untied"}`, async () => {
      const options: SyntheticLlamaOptions = {
        dim: 64,
        hiddenDim: 96,
        nLayers: 2,
        nHeads: 4,
        nKvHeads: 1,
        vocabSize: 3000,
        seqLen: 256,
        type: "f16",
        seed: tiedOutput ? 42 : 43,
        ropeTheta: 500000,
        ropeScaling: LLAMA3,
        tiedOutput,
      };
      const r = await checkLogits(syntheticLlamaGguf(options), PROMPT, {
        steps: STEPS,
        tolerance: LOGIT_TOLERANCE,
        bindingLimit: 64 * 1024,
        inspect: (gpu) => {
          const classifier = gpu.resources.get(tiedOutput ? "tokenEmbedding" : "output") as GpuWeight;
          expect(classifier.chunks.length).toBe(6);
          expect((gpu.resources.get("tokenEmbedding") as GpuWeight).chunks.length).toBe(6);
        },
      });
      expect(r.compared).toBeGreaterThan(STEPS / 2);
    });
  }
});

describe("sliding-window (Mistral-style) models", () => {
  test("the default context stops at the window; a longer one is refused, naming both", async () => {
    const ctx = await testContext();
    const store = new ModelStore(`skiff-window-${Date.now()}`);
    const bytes = syntheticLlamaGguf({ ...qwen2[2][1], architecture: "llama", slidingWindow: 48 });
    const m = await importGguf(store, new Blob([bytes as BlobPart]), { name: "window.gguf" });
    const gpu = await loadGpuModel(ctx, store, m, { prefillChunk: 8 });
    expect(gpu.capacity).toBe(48);
    gpu.destroy();
    const refused = loadGpuModel(ctx, store, m, { prefillChunk: 8, contextLength: 64 });
    await expect(refused).rejects.toThrow(SkiffError);
    await expect(refused).rejects.toThrow(/Context length 64 is more than .* sliding attention window \(48\)/);
    await store.remove(m.id);
  });
});

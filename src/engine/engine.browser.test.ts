// The whole model on the GPU against the float64 CPU reference, token for token under greedy decoding:
// stories260K in every stored type, chunked prefill, and synthetic models with other shapes.
import { describe, expect, test } from "vitest";
import f32Url from "../../../shared/models/stories260K-f32.gguf?url";
import f16Url from "../../../shared/models/stories260K-f16.gguf?url";
import q8Url from "../../../shared/models/stories260K-q8_0.gguf?url";
import q4Url from "../../../shared/models/stories260K-q4_0.gguf?url";
import { Engine } from "./engine.ts";
import { ReferenceLlama, greedyReference } from "../reference/forward.ts";
import { referenceWeightsFromGguf } from "../reference/gguf-weights.ts";
import { syntheticLlamaGguf, type SyntheticLlamaOptions } from "../loaders/synthetic-model.ts";
import { SkiffError } from "../errors.ts";
import golden from "../reference/fixtures/stories260k-golden.json";

let n = 0;
const freshEngine = (prefillChunk = 32) =>
  new Engine({ storePrefix: `skiff-engine-test-${Date.now()}-${n++}`, prefillChunk });

async function bytesOf(url: string): Promise<Uint8Array> {
  return new Uint8Array(await (await fetch(url)).arrayBuffer());
}

async function parity(
  bytes: Uint8Array,
  prompt: number[],
  steps: number,
  prefillChunk = 32,
  penalty = 1,
): Promise<number[]> {
  const engine = freshEngine(prefillChunk);
  const model = await engine.importModel(new Blob([bytes as BlobPart]), { name: "model.gguf" });
  await engine.load(model.id);
  const got = await engine.generate(prompt, {
    temperature: 0,
    maxTokens: steps,
    stopAtEos: false,
    repetitionPenalty: penalty,
  });
  const { config, weights } = referenceWeightsFromGguf(bytes);
  const want = greedyReference(new ReferenceLlama(config, weights), prompt, steps, penalty);
  expect(got.tokenIds).toEqual(want);
  expect(got.stopReason).toBe("max-tokens");
  engine.dispose();
  return got.tokenIds;
}

describe("engine: GPU generation equals the CPU reference", () => {
  test("golden: stories260K-f32 on the GPU gives the independent implementation's 50 greedy ids", async () => {
    const engine = freshEngine();
    const m = await engine.importModel(await (await fetch(f32Url)).blob(), { name: "f32.gguf" });
    await engine.load(m.id);
    const r = await engine.generate(golden.prompt, { temperature: 0, maxTokens: 50, stopAtEos: false });
    expect(r.tokenIds).toEqual(golden.ids);
    engine.dispose();
  });

  for (const [type, url] of [
    ["f32", f32Url],
    ["f16", f16Url],
    ["q8_0", q8Url],
    ["q4_0", q4Url],
  ] as const) {
    test(`stories260K-${type}: 48 greedy tokens from BOS`, async () => {
      await parity(await bytesOf(url), [1], 48);
    });
  }

  test("stories260K-q4_0: a 75-token prompt prefilled in chunks of 16, then 24 tokens", async () => {
    const prompt = [1, ...Array.from({ length: 74 }, (_, i) => 3 + ((i * 37) % 250))];
    await parity(await bytesOf(q4Url), prompt, 24, 16);
  });

  test("stories260K-f32 with a repetition penalty of 1.3 (window 64, prompt included)", async () => {
    const ids = await parity(await bytesOf(f32Url), [1, 431, 431, 300], 70, 32, 1.3);
    // Unpenalised, this model repeats id 431 thirteen times in a row from BOS.
    expect(ids.filter((t) => t === 431).length).toBeLessThan(5);
  });

  const synthetic: [string, SyntheticLlamaOptions][] = [
    [
      "q8_0, GQA 4:1, untied output, 3 layers",
      {
        dim: 128,
        hiddenDim: 320,
        nLayers: 3,
        nHeads: 8,
        nKvHeads: 2,
        vocabSize: 333,
        seqLen: 256,
        type: "q8_0",
        seed: 11,
      },
    ],
    [
      "f16, multi-head, tied output",
      {
        dim: 96,
        hiddenDim: 200,
        nLayers: 2,
        nHeads: 3,
        nKvHeads: 3,
        vocabSize: 301,
        seqLen: 128,
        type: "f16",
        seed: 12,
        tiedOutput: true,
      },
    ],
  ];
  for (const [name, options] of synthetic) {
    test(`synthetic ${name}`, async () => {
      await parity(syntheticLlamaGguf(options), [1, 70, 80, 90, 100], 20, 3);
    });
  }
});

describe("engine: generation behaviour", () => {
  test("same seed, same sample; streaming text equals the result; stop strings and max tokens", async () => {
    const engine = freshEngine();
    const m = await engine.importModel(await (await fetch(q8Url)).blob(), { name: "q8.gguf" });
    await engine.load(m.id, { contextLength: 256 });
    const settings = { temperature: 0.9, topK: 40, topP: 0.9, seed: 1234, maxTokens: 30, stopAtEos: false };
    const streamed: string[] = [];
    const a = await engine.generate([1], settings, (t) => streamed.push(t.text));
    const b = await engine.generate([1], settings);
    expect(a.tokenIds).toEqual(b.tokenIds);
    expect(a.tokenIds).toHaveLength(30);
    expect(streamed.join("")).toBe(a.text);
    const c = await engine.generate([1], { ...settings, seed: 99 });
    expect(c.tokenIds).not.toEqual(a.tokenIds);
    expect(a.stats.generatedTokens).toBe(30);
    expect(a.stats.decodeTokensPerSecond).toBeGreaterThan(0);

    const greedy = await engine.generate([1], { temperature: 0, maxTokens: 20, stopAtEos: false });
    const stopAt = greedy.text.slice(5, 7);
    const stopped = await engine.generate([1], { temperature: 0, maxTokens: 20, stopAtEos: false, stop: [stopAt] });
    expect(stopped.stopReason).toBe("stop-string");
    expect(stopped.text).toBe(greedy.text.slice(0, greedy.text.indexOf(stopAt)));
    engine.dispose();
  });

  test("abort stops a generation; bad settings and long prompts are clear errors", async () => {
    const engine = freshEngine();
    const m = await engine.importModel(await (await fetch(q4Url)).blob(), { name: "q4.gguf" });
    await engine.load(m.id, { contextLength: 64 });
    const result = await engine.generate([1], { temperature: 0, maxTokens: 50, stopAtEos: false }, (t) => {
      if (t.index === 4) engine.abort();
    });
    expect(result.stopReason).toBe("aborted");
    expect(result.tokenIds.length).toBe(5);
    await expect(engine.generate([1], { topP: 0 })).rejects.toThrow(/topP/);
    await expect(engine.generate(new Array(64).fill(5))).rejects.toThrow(/context holds 64/);
    await expect(engine.generate([1, 9999])).rejects.toThrow(/9999 is outside the vocabulary/);
    const full = await engine.generate([1], { temperature: 0, maxTokens: 500, stopAtEos: false });
    expect(full.stopReason).toBe("context-full");
    // Positions 0..63 fill the cache; the token chosen at position 63 needs no slot of its own.
    expect(full.tokenIds.length).toBe(64);
    await expect(engine.load(m.id, { contextLength: 100000 })).rejects.toThrow(/trained for/);
    await expect(engine.load("nope")).rejects.toThrow(SkiffError);
    engine.dispose();
  });

  test("a model too big for the memory budget is refused before anything is allocated", async () => {
    const engine = new Engine({ storePrefix: `skiff-engine-big-${Date.now()}` });
    const m = await engine.importModel(await (await fetch(q4Url)).blob(), { name: "q4.gguf" });
    await expect(engine.load(m.id, { contextLength: 512, memoryBudget: 1000 })).rejects.toThrow(/more than the/);
    engine.dispose();
  });
});

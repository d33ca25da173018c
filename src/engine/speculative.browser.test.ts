// Speculative decoding end to end on the GPU: with either drafter, greedy output equals plain greedy decoding token for
// token on stories260K and synthetic models over many prompts; sampled output is reproducible; an abort while a round
// is in flight leaves the engine usable.
import { describe, expect, test } from "vitest";
import f32Url from "../../../shared/models/stories260K-f32.gguf?url";
import q8Url from "../../../shared/models/stories260K-q8_0.gguf?url";
import { Engine } from "./engine.ts";
import { syntheticLlamaGguf, type SyntheticLlamaOptions } from "../loaders/synthetic-model.ts";
import type { GenerateSettings } from "./settings.ts";

let n = 0;
async function engineFor(bytes: Uint8Array, contextLength = 160): Promise<Engine> {
  const engine = new Engine({ storePrefix: `skiff-spec-test-${Date.now()}-${n++}` });
  const m = await engine.importModel(new Blob([bytes as BlobPart]), { name: "model.gguf" });
  await engine.load(m.id, { contextLength });
  return engine;
}

const bytesOf = async (url: string) => new Uint8Array(await (await fetch(url)).arrayBuffer());
const greedy = { temperature: 0, stopAtEos: false };

/** Prompts of 1 to 12 tokens, some repeating themselves (so prompt lookup finds matches). */
function prompts(count: number, vocab: number): number[][] {
  return Array.from({ length: count }, (_, i) => {
    const body = Array.from({ length: i % 6 }, (_, j) => 3 + ((i * 131 + j * 71) % (vocab - 3)));
    return [1, ...body, ...(i % 3 === 0 ? body : [])];
  });
}

async function expectSameAsPlain(
  engine: Engine,
  list: number[][],
  maxTokens: number,
  speculative: GenerateSettings["speculative"],
): Promise<{ drafted: number; accepted: number; passes: number }> {
  const total = { drafted: 0, accepted: 0, passes: 0 };
  for (const prompt of list) {
    const plain = await engine.generate(prompt, { ...greedy, maxTokens });
    const spec = await engine.generate(prompt, { ...greedy, maxTokens, speculative });
    expect(spec.tokenIds, `prompt ${prompt.join(",")} (${speculative.drafter})`).toEqual(plain.tokenIds);
    expect(spec.stopReason).toBe(plain.stopReason);
    const st = spec.stats.speculative!;
    expect(st.accepted).toBeLessThanOrEqual(st.drafted);
    total.drafted += st.drafted;
    total.accepted += st.accepted;
    total.passes += st.verifyPasses;
  }
  return total;
}

describe("speculative decoding equals plain greedy decoding", () => {
  for (const [type, url] of [
    ["f32", f32Url],
    ["q8_0", q8Url],
  ] as const) {
    test(`stories260K-${type}: ffn-skip and ngram drafters over 10 prompts x 40 tokens`, async () => {
      const engine = await engineFor(await bytesOf(url));
      const list = prompts(10, 512);
      // An aggressive draft policy, so that drafts really differ from the verifier's choices.
      const skip = await expectSameAsPlain(engine, list, 40, {
        drafter: "ffn-skip",
        maxDraft: 4,
        draftSkip: { threshold: 0.75 },
      });
      const ngram = await expectSameAsPlain(engine, list, 40, { drafter: "ngram", maxDraft: 6 });
      expect(skip.accepted).toBeLessThan(skip.drafted);
      expect(skip.passes).toBeGreaterThan(0);
      expect(ngram.passes).toBeGreaterThan(0);
      engine.dispose();
    });
  }

  const synthetic: [string, SyntheticLlamaOptions][] = [
    [
      "q8_0, GQA 4:1, 3 layers",
      {
        dim: 128,
        hiddenDim: 320,
        nLayers: 3,
        nHeads: 8,
        nKvHeads: 2,
        vocabSize: 333,
        seqLen: 256,
        type: "q8_0",
        seed: 31,
      },
    ],
    [
      "f16, tied output, 4 layers",
      {
        dim: 96,
        hiddenDim: 200,
        nLayers: 4,
        nHeads: 3,
        nKvHeads: 3,
        vocabSize: 301,
        seqLen: 128,
        type: "f16",
        seed: 32,
        tiedOutput: true,
      },
    ],
  ];
  for (const [name, options] of synthetic) {
    test(`synthetic ${name}: both drafters over 8 prompts x 32 tokens, drafts up to 8`, async () => {
      const engine = await engineFor(syntheticLlamaGguf(options), 100);
      const list = prompts(8, options.vocabSize);
      await expectSameAsPlain(engine, list, 32, { drafter: "ffn-skip", maxDraft: 8, draftSkip: { threshold: 0.5 } });
      await expectSameAsPlain(engine, list, 32, { drafter: "ngram", maxDraft: 8 });
      engine.dispose();
    });
  }

  test("context-full, stop at EOS and max tokens end speculative runs as they end plain ones", async () => {
    const engine = await engineFor(await bytesOf(f32Url), 40);
    for (const drafter of ["ffn-skip", "ngram"] as const) {
      const plain = await engine.generate([1, 9, 9], { ...greedy, maxTokens: 500 });
      const spec = await engine.generate([1, 9, 9], { ...greedy, maxTokens: 500, speculative: { drafter } });
      expect(spec.stopReason).toBe("context-full");
      expect(spec.tokenIds).toEqual(plain.tokenIds);
      const eos = await engine.generate([1], { temperature: 0, maxTokens: 100, speculative: { drafter } });
      expect(eos).toMatchObject({
        tokenIds: (await engine.generate([1], { temperature: 0, maxTokens: 100 })).tokenIds,
      });
    }
    engine.dispose();
  });

  test("sampled speculative decoding runs rounds and is reproducible for a seed", async () => {
    const engine = await engineFor(await bytesOf(f32Url));
    const settings = { temperature: 0.8, topK: 20, topP: 0.95, seed: 77, maxTokens: 40, stopAtEos: false };
    for (const drafter of ["ffn-skip", "ngram"] as const) {
      const a = await engine.generate([1, 50], { ...settings, speculative: { drafter } });
      const b = await engine.generate([1, 50], { ...settings, speculative: { drafter } });
      expect(a.tokenIds).toEqual(b.tokenIds);
      expect(a.tokenIds).toHaveLength(40);
      expect(a.stats.speculative?.verifyPasses).toBeGreaterThan(0);
    }
    engine.dispose();
  });

  test("an abort while rounds are in flight leaves the engine usable", async () => {
    const engine = await engineFor(await bytesOf(f32Url));
    const want = (await engine.generate([1, 60], { ...greedy, maxTokens: 30 })).tokenIds;
    for (const drafter of ["ffn-skip", "ngram"] as const) {
      const speculative = { drafter, maxDraft: 4 };
      // From a token event (the round's remaining tokens are dropped) and from a timer (mid round).
      const r = await engine.generate([1, 60], { ...greedy, maxTokens: 100, speculative }, (t) => {
        if (t.index === 6) engine.abort();
      });
      expect(r.stopReason).toBe("aborted");
      expect(r.tokenIds).toEqual(want.slice(0, 7));
      const pending = engine.generate([1, 60], { ...greedy, maxTokens: 100, speculative });
      setTimeout(() => engine.abort(), 30);
      const timed = await pending;
      expect(timed.stopReason).toBe("aborted");
      const again = await engine.generate([1, 60], { ...greedy, maxTokens: 30, speculative });
      expect(again.tokenIds).toEqual(want);
    }
    engine.dispose();
  });
});

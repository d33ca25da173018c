// FFN skipping end to end on the GPU: a threshold that skips nothing is bit-identical to dense decoding; a layer whose
// FFN output is zero is skipped after warm-up; the per-token map the kernels report equals the CPU reference policy's
// decisions, with the same tokens; an abort leaves the engine usable.
import { describe, expect, test } from "vitest";
import f32Url from "../../../shared/models/stories260K-f32.gguf?url";
import { Engine } from "./engine.ts";
import { ReferenceLlama } from "../reference/forward.ts";
import { skipGreedyReference, type SkipGeneration } from "../reference/ffn-skip.ts";
import { referenceWeightsFromGguf } from "../reference/gguf-weights.ts";
import { syntheticLlamaGguf } from "../loaders/synthetic-model.ts";
import { DEFAULT_FFN_SKIP, type FfnSkipSettings } from "./settings.ts";
import { generateWithMap, scaleFfnDown } from "./ffn-skip-testing.ts";
import { testContext } from "../kernels/testing.ts";
import { ModelStore } from "../storage/model-store.ts";
import { importGguf } from "../storage/import-gguf.ts";
import { loadGpuModel } from "./gpu-model.ts";
import { createDecodeBuffers } from "./decode-buffers.ts";
import { buildLlamaStep } from "../models/llama.ts";
import { prepareStep, type PreparedStep } from "../graph/executor.ts";
import { opTable } from "../kernels/index.ts";
import { initialFfnState } from "../kernels/ffn-plan.ts";
import { readF32 } from "../gpu/readback.ts";

let n = 0;
async function engineFor(bytes: Uint8Array): Promise<Engine> {
  const engine = new Engine({ storePrefix: `skiff-ffnskip-test-${Date.now()}-${n++}` });
  const m = await engine.importModel(new Blob([bytes as BlobPart]), { name: "model.gguf" });
  await engine.load(m.id, { contextLength: 128 });
  return engine;
}

const greedy = { temperature: 0, stopAtEos: false };

function reference(bytes: Uint8Array, prompt: number[], steps: number, s: FfnSkipSettings): SkipGeneration {
  const { config, weights } = referenceWeightsFromGguf(bytes);
  return skipGreedyReference(new ReferenceLlama(config, weights), prompt, steps, s);
}

/** Four f32 layers; layer 2's FFN output is all zeros, so its similarity is exactly 1. */
const zeroLayerModel = () =>
  scaleFfnDown(
    syntheticLlamaGguf({
      dim: 64,
      hiddenDim: 96,
      nLayers: 4,
      nHeads: 4,
      nKvHeads: 2,
      vocabSize: 300,
      seqLen: 128,
      type: "f32",
      seed: 21,
    }),
    [2],
    0,
  );

describe("FFN skipping on the GPU", () => {
  test("a threshold that skips nothing: the same tokens as dense, and bit-identical logits step by step", async () => {
    const bytes = new Uint8Array(await (await fetch(f32Url)).arrayBuffer());
    const engine = await engineFor(bytes);
    const dense = await engine.generate([1, 40, 50], { ...greedy, maxTokens: 24 });
    const none = { ...DEFAULT_FFN_SKIP, enabled: true, threshold: 2, warmupTokens: 0, maxSkipFraction: 1 };
    const skipping = await generateWithMap(engine, [1, 40, 50], { ...greedy, maxTokens: 24, ffnSkip: none });
    expect(skipping.tokenIds).toEqual(dense.tokenIds);
    expect(skipping.maps.every((m) => m?.length === 5 && m.every(Boolean))).toBe(true);
    expect(skipping.stats.ffnSkip).toEqual({ blocksRun: 24 * 5, blocksSkipped: 0, skipRatio: 0 });
    expect(dense.stats.ffnSkip).toBeUndefined();
    engine.dispose();

    // The steps themselves, fed the same tokens: every logit bit-identical.
    const ctx = await testContext();
    const store = new ModelStore(`skiff-ffnskip-logits-${Date.now()}`);
    const manifest = await importGguf(store, new Blob([bytes as BlobPart]), { name: "m.gguf" });
    const gpu = await loadGpuModel(ctx, store, manifest, { prefillChunk: 8, contextLength: 64 });
    const buffers = createDecodeBuffers(ctx, gpu);
    const c = manifest.config;
    const make = (skip?: { first: number; end: number }) =>
      prepareStep(
        ctx,
        buildLlamaStep(c, { kind: "decode", nTokens: 1, capacity: 64, ffnSkip: skip }),
        gpu.resources,
        opTable,
      );
    const denseStep = await make();
    const skipStep = await make({ first: 0, end: c.nLayers });
    skipStep.kernel("ffnPlan").update({ cap: c.nLayers, recheck: 0, threshold: 2, warmup_until: 0 });
    ctx.device.queue.writeBuffer(buffers.ffnState, 0, initialFfnState(c.nLayers));
    const run = async (step: PreparedStep) => {
      const all: Float32Array[] = [];
      for (const [pos, token] of [1, 40, 50, ...dense.tokenIds.slice(0, 8)].entries()) {
        ctx.device.queue.writeBuffer(gpu.tokens, 0, new Uint32Array([token]));
        step.setPosition(pos);
        const encoder = ctx.device.createCommandEncoder();
        const pass = encoder.beginComputePass();
        step.encode(pass);
        pass.end();
        ctx.device.queue.submit([encoder.finish()]);
        const logits = step.binding("logits");
        all.push(await readF32(ctx.device, logits.buffer, logits.offset ?? 0, c.vocabSize));
      }
      return all;
    };
    const a = await run(denseStep);
    const b = await run(skipStep);
    a.forEach((row, i) => expect(Array.from(b[i]), `step ${i}`).toEqual(Array.from(row)));
    [denseStep, skipStep].forEach((s) => s.destroy());
    buffers.destroy();
    gpu.destroy();
    await store.remove(manifest.id);
  });

  test("a layer whose FFN output is zero is skipped on every token after warm-up, and re-checked when asked", async () => {
    const bytes = zeroLayerModel();
    const engine = await engineFor(bytes);
    const prompt = [1, 70, 80, 90];
    const dense = await engine.generate(prompt, { ...greedy, maxTokens: 20 });
    const settings: FfnSkipSettings = {
      enabled: true,
      warmupTokens: 3,
      protectFirst: 1,
      protectLast: 1,
      threshold: 0.9999,
      maxSkipFraction: 1,
      recheckEvery: 0,
    };
    const always = await generateWithMap(engine, prompt, { ...greedy, maxTokens: 20, ffnSkip: settings });
    // Skipping a block that adds zeros changes nothing.
    expect(always.tokenIds).toEqual(dense.tokenIds);
    always.maps.forEach((m, i) => expect(m, `token ${i}`).toEqual([true, true, i < 3, true]));
    expect(always.stats.ffnSkip?.blocksSkipped).toBe(17);

    const rechecked = await generateWithMap(engine, prompt, {
      ...greedy,
      maxTokens: 20,
      ffnSkip: { ...settings, recheckEvery: 4 },
    });
    // Skipped four tokens in a row, it runs on the fifth: tokens 7, 12 and 17.
    rechecked.maps.forEach((m, i) => expect(m?.[2], `token ${i}`).toBe(i < 3 || (i - 7) % 5 === 0));
    const want = reference(bytes, prompt, 20, { ...settings, recheckEvery: 4 });
    expect(rechecked.maps).toEqual(want.ran);
    expect(rechecked.tokenIds).toEqual(want.ids);
    engine.dispose();
  });

  test("stories260K: the map the kernels report equals the CPU reference policy's decisions, with its tokens", async () => {
    const bytes = new Uint8Array(await (await fetch(f32Url)).arrayBuffer());
    const engine = await engineFor(bytes);
    let checked = 0;
    for (const [prompt, maxSkipFraction] of [
      [[1], 1],
      [[1, 300, 20], 0.67],
      [[1, 77], 0.34],
    ] as const) {
      // A threshold whose decisions are all well clear of f32 rounding, among some that skip a fair share.
      let chosen: { s: FfnSkipSettings; want: SkipGeneration } | undefined;
      for (const threshold of [0.8, 0.78, 0.82, 0.76, 0.84, 0.75, 0.85]) {
        const s = { ...DEFAULT_FFN_SKIP, enabled: true, threshold, warmupTokens: 2, recheckEvery: 3, maxSkipFraction };
        const want = reference(bytes, [...prompt], 40, s);
        if (want.closest > 1e-4 && want.ran.flat().some((r) => !r)) {
          chosen = { s, want };
          break;
        }
      }
      if (!chosen) continue;
      const got = await generateWithMap(engine, [...prompt], { ...greedy, maxTokens: 40, ffnSkip: chosen.s });
      expect(got.maps, `prompt ${prompt}`).toEqual(chosen.want.ran);
      expect(got.tokenIds, `prompt ${prompt}`).toEqual(chosen.want.ids);
      const skipped = chosen.want.ran.flat().filter((r) => !r).length;
      expect(got.stats.ffnSkip?.blocksSkipped).toBe(skipped);
      expect(got.stats.ffnSkip?.skipRatio).toBeCloseTo(skipped / (40 * 5), 10);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(2);
    engine.dispose();
  });

  test("an abort in the middle of a skipping generation leaves the engine usable", async () => {
    const bytes = zeroLayerModel();
    const engine = await engineFor(bytes);
    const prompt = [1, 5, 6];
    const ffnSkip = { enabled: true, threshold: 0.9999, warmupTokens: 1, recheckEvery: 0 };
    const aborted = await generateWithMap(engine, prompt, { ...greedy, maxTokens: 40, ffnSkip }, (i) => {
      if (i === 5) engine.abort();
    });
    expect(aborted.stopReason).toBe("aborted");
    expect(aborted.tokenIds).toHaveLength(6);
    const again = await generateWithMap(engine, prompt, { ...greedy, maxTokens: 12, ffnSkip });
    const want = reference(bytes, prompt, 12, { ...DEFAULT_FFN_SKIP, ...ffnSkip });
    expect(again.tokenIds).toEqual(want.ids);
    expect(again.maps).toEqual(want.ran);
    const dense = await engine.generate(prompt, { ...greedy, maxTokens: 12 });
    expect(dense.tokenIds).toEqual(want.ids);
    await expect(engine.generate(prompt, { ffnSkip: { threshold: Number.NaN } })).rejects.toThrow(/ffnSkip.threshold/);
    engine.dispose();
  });
});

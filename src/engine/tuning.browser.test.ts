// Kernel tuning through the engine: the first load on a device times the candidates at the model's shapes and
// stores the winners; a later load reuses them without timing; a choice stored for another Skiff version or
// adapter is not used; a forced variant is honoured; every way of picking generates the reference's tokens.
import { describe, expect, test } from "vitest";
import { Engine, type LoadedModelInfo } from "./engine.ts";
import { ReferenceLlama, greedyReference } from "../reference/forward.ts";
import { referenceWeightsFromGguf } from "../reference/gguf-weights.ts";
import { syntheticLlamaGguf } from "../loaders/synthetic-model.ts";
import { TuningStore } from "../storage/tuning-store.ts";
import { SKIFF_VERSION } from "../version.ts";
import { choiceName } from "../kernels/tuning.ts";

const MODEL = syntheticLlamaGguf({
  dim: 64,
  hiddenDim: 96,
  nLayers: 2,
  nHeads: 4,
  nKvHeads: 2,
  vocabSize: 300,
  seqLen: 96,
  type: "q8_0",
  seed: 11,
});
const PROMPT = [1, 70, 80, 90, 100, 110];
/** Every candidate of every style, however long it takes, so the set of measured ops does not depend on speed. */
const FULL = { tuningCandidates: "all", tuningBudgetMs: Infinity } as const;
const STEPS = 12;

let n = 0;
async function setup(): Promise<{ engine: Engine; prefix: string; id: string }> {
  const prefix = `skiff-tuning-test-${Date.now()}-${n++}`;
  const engine = new Engine({ storePrefix: prefix, prefillChunk: 4 });
  const model = await engine.importModel(new Blob([MODEL as BlobPart]), { name: "tuning.gguf" });
  return { engine, prefix, id: model.id };
}

const reference = (() => {
  const { config, weights } = referenceWeightsFromGguf(MODEL);
  return greedyReference(new ReferenceLlama(config, weights), PROMPT, STEPS);
})();

async function expectReferenceTokens(engine: Engine): Promise<void> {
  const r = await engine.generate(PROMPT, { temperature: 0, maxTokens: STEPS, stopAtEos: false });
  expect(r.tokenIds).toEqual(reference);
}

function tunedKeys(info: LoadedModelInfo): string[] {
  return Object.keys(info.tuning.choices).sort();
}

describe("engine kernel tuning", () => {
  test("first load times each op family and picks for every op shape; the second load reuses the choices", async () => {
    const { engine, id } = await setup();
    const progress: string[] = [];
    const first = await engine.load(id, FULL, (p) => progress.push(p.record.key));
    // Distinct shapes: wq/wo (64x64), wk/wv (32x64), gate/up (96x64), down (64x96), output (300x64, decode only),
    // as gemv and gemm, plus attention decode and prefill.
    expect(tunedKeys(first)).toEqual(
      [
        "attentionDecode:4/2x16:96",
        "attentionPrefill:4/2x16:96",
        "gemm:q8_0:32x64",
        "gemm:q8_0:64x64",
        "gemm:q8_0:64x96",
        "gemm:q8_0:96x64",
        "gemv:q8_0:300x64",
        "gemv:q8_0:32x64",
        "gemv:q8_0:64x64",
        "gemv:q8_0:64x96",
        "gemv:q8_0:96x64",
      ].sort(),
    );
    // Each op family is timed at least once; a later shape of the family skips candidates that lost badly before.
    const families = new Set(first.tuning.records.map((r) => r.key.slice(0, r.key.lastIndexOf(":"))));
    expect([...families].sort()).toEqual(
      ["attentionDecode:4/2x16", "attentionPrefill:4/2x16", "gemm:q8_0", "gemv:q8_0"].sort(),
    );
    expect(first.tuning.measured).toBe(first.tuning.records.length);
    expect(progress.sort()).toEqual(first.tuning.records.map((r) => r.key).sort());
    for (const r of first.tuning.records) expect(first.tuning.choices[r.key]).toBe(choiceName(r.chosen));
    await expectReferenceTokens(engine);

    const second = await engine.load(id);
    expect(second.tuning.measured).toBe(0);
    expect(second.tuning.choices).toEqual(first.tuning.choices);
    await expectReferenceTokens(engine);
    engine.dispose();
  });

  test("choices stored for another Skiff version or another adapter are not reused", async () => {
    const { engine, prefix, id } = await setup();
    const first = await engine.load(id, FULL);
    const adapter = (await engine.deviceInfo()).adapter;
    const store = new TuningStore(prefix);
    const stored = await store.load(adapter, SKIFF_VERSION);
    expect(Object.keys(stored).sort()).toEqual(tunedKeys(first));
    await store.clear(adapter, SKIFF_VERSION);
    await store.save(adapter, "0.0.0-older", stored);
    await store.save({ ...adapter, device: `${adapter.device}-other` }, SKIFF_VERSION, stored);
    const again = await engine.load(id, FULL);
    expect(again.tuning.measured).toBeGreaterThanOrEqual(4);
    engine.dispose();
  });

  test("a forced variant runs everywhere and generates the reference's tokens; skip measures nothing", async () => {
    const { engine, id } = await setup();
    for (const variant of ["cooperative", "rowwise"] as const) {
      const info = await engine.load(id, { kernelVariant: variant });
      expect(info.tuning.measured).toBe(0);
      for (const [key, choice] of Object.entries(info.tuning.choices)) {
        expect(`${key} ${choice}`).toMatch(new RegExp(`^\\S+ ${variant}(/\\d+)?$`));
      }
      await expectReferenceTokens(engine);
    }
    const skipped = await engine.load(id, { tuning: "skip" });
    expect(skipped.tuning.measured).toBe(0);
    await expectReferenceTokens(engine);
    engine.dispose();
  });

  test("retune measures again even with stored choices", async () => {
    const { engine, id } = await setup();
    const first = await engine.load(id, FULL);
    expect(first.tuning.measured).toBeGreaterThanOrEqual(4);
    const again = await engine.load(id, { ...FULL, tuning: "retune" });
    expect(again.tuning.measured).toBeGreaterThanOrEqual(4);
    engine.dispose();
  });

  test("by default a CPU adapter times only the barrier-free style, a GPU every style", async () => {
    const { engine, id } = await setup();
    const { isCpuAdapter } = await engine.deviceInfo();
    const info = await engine.load(id);
    const styles = new Set(info.tuning.records.flatMap((r) => r.candidates.map((c) => c.choice.variant)));
    expect([...styles].sort()).toEqual(isCpuAdapter ? ["rowwise"] : ["cooperative", "rowwise"]);
    expect(info.tuning.measured).toBeGreaterThan(0);
    await expectReferenceTokens(engine);
    engine.dispose();
  });

  test("a spent budget gives the remaining ops the default, stored, so a later load measures nothing", async () => {
    const { engine, id } = await setup();
    const first = await engine.load(id, { tuningBudgetMs: 0 });
    expect(first.tuning.measured).toBe(0);
    const second = await engine.load(id);
    expect(second.tuning.measured).toBe(0);
    expect(second.tuning.choices).toEqual(first.tuning.choices);
    engine.dispose();
  });
});

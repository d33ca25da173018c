// Pruned models end to end: `pruneModel` (skiff prune as a library) writes a GGUF with its zeros written out; import
// finds exactly the N:M tensors and stores them compressed; the model then runs the sparse GEMV/GEMM and equals the
// float64 reference of the pruned file: logits step by step, and the engine's greedy tokens.
import { describe, expect, test } from "vitest";
import { checkLogits } from "./parity-testing.ts";
import { Engine } from "./engine.ts";
import { planMemory } from "./gpu-model.ts";
import { syntheticLlamaGguf } from "../loaders/synthetic-model.ts";
import { readGgufHeader } from "../loaders/gguf.ts";
import type { WeightType } from "../loaders/ggml-quants.ts";
import { pruneModel, type PruneOptions } from "../tools/prune.ts";
import { ModelStore } from "../storage/model-store.ts";
import { importGguf, type LlamaManifest } from "../storage/import-gguf.ts";
import { isSparseWeight, type GpuSparseWeight } from "../kernels/sparse-weights.ts";
import { ReferenceLlama, greedyReference } from "../reference/forward.ts";
import { testContext } from "../kernels/testing.ts";
import { weightBytes } from "../kernels/weights.ts";
import { parsePattern, sparseBytes } from "../loaders/sparse-nm.ts";
import { referenceWeightsFromGguf } from "../reference/gguf-weights.ts";

const LOGIT_TOLERANCE = 2e-4;
const PROMPT = [1, 100, 120, 140, 160, 180, 200, 220, 240, 260, 17];
const STEPS = 8;
const SHAPE = { dim: 64, hiddenDim: 160, nLayers: 2, nHeads: 4, nKvHeads: 2, vocabSize: 300, seqLen: 64 };
const FFN = ["wGate", "wUp", "wDown"];
const ATTN = ["wq", "wk", "wv", "wo"];

function pruned(type: WeightType, seed: number, options: PruneOptions): Uint8Array {
  return pruneModel(syntheticLlamaGguf({ ...SHAPE, type, seed }), options).bytes;
}

/** The roles each layer has stored sparse, by pattern ("layers.0.wGate" -> "2:4"). */
function sparseRoles(m: LlamaManifest): Record<string, string> {
  return Object.fromEntries(m.tensors.flatMap((t) => (t.sparse ? [[t.name, t.sparse]] : [])));
}

const expected = (roles: string[], pattern: string) =>
  Object.fromEntries([0, 1].flatMap((l) => roles.map((r) => [`layers.${l}.${r}`, pattern])));

let n = 0;
async function imported(bytes: Uint8Array, sparse?: boolean): Promise<{ store: ModelStore; manifest: LlamaManifest }> {
  const store = new ModelStore(`skiff-sparse-model-${Date.now()}-${n++}`);
  const manifest = await importGguf(store, new Blob([bytes as BlobPart]), { name: "pruned.gguf", sparse });
  return { store, manifest };
}

describe("import stores exactly the N:M tensors compressed", () => {
  test("2:4 FFN-pruned: the six FFN matrices and nothing else; sparse: false keeps all dense; fewer bytes", async () => {
    const bytes = pruned("q4_0", 41, { pattern: "2:4", tensors: "ffn" });
    const { store, manifest } = await imported(bytes);
    expect(sparseRoles(manifest)).toEqual(expected(FFN, "2:4"));
    const dense = await imported(bytes, false);
    expect(sparseRoles(dense.manifest)).toEqual({});
    const need = planMemory(manifest, 32).weights;
    const denseNeed = planMemory(dense.manifest, 32).weights;
    expect(need).toBeLessThan(denseNeed);
    await store.remove(manifest.id);
    await dense.store.remove(dense.manifest.id);
  });

  test("a pruned tensor with one extra non-zero stays dense; the others keep their pattern", async () => {
    const bytes = pruned("f32", 42, { pattern: "2:4", tensors: "all" });
    const header = await readGgufHeader(new Blob([bytes as BlobPart]));
    const info = header.tensors.find((t) => t.name === "blk.1.ffn_up.weight")!;
    const w = new Float32Array(bytes.buffer, bytes.byteOffset + info.offset, info.byteSize / 4);
    // A zero of row 3's group 2 becomes non-zero: 3 in that 4-group, 5 in its 8-group, so no pattern holds.
    const g = 3 * info.dims[0] + 8;
    const zero = [0, 1, 2, 3].find((j) => w[g + j] === 0)!;
    w[g + zero] = 0.125;
    const { store, manifest } = await imported(bytes);
    const want = expected([...ATTN, ...FFN], "2:4");
    delete want["layers.1.wUp"];
    expect(sparseRoles(manifest)).toEqual(want);
    await store.remove(manifest.id);
  });
});

describe("pruned models run the sparse kernels and equal the reference", () => {
  const cases: [WeightType, PruneOptions, string[]][] = [
    ["f32", { pattern: "2:4", tensors: "ffn" }, FFN],
    ["f16", { pattern: "4:8", tensors: "all" }, [...ATTN, ...FFN]],
    ["q8_0", { pattern: "1:4", tensors: "attn" }, ATTN],
    ["q4_0", { pattern: "2:4", tensors: "all", method: "wanda" }, [...ATTN, ...FFN]],
    ["q4_0", { pattern: "2:8", tensors: "ffn" }, FFN],
  ];
  for (const [type, options, roles] of cases) {
    test(`${type}, ${options.pattern} ${options.tensors}${options.method ? ` (${options.method})` : ""}`, async () => {
      const bytes = pruned(type, 50 + roles.length, options);
      let sparse: GpuSparseWeight[] = [];
      const r = await checkLogits(bytes, PROMPT, {
        steps: STEPS,
        tolerance: LOGIT_TOLERANCE,
        inspect: (gpu) => {
          sparse = [...gpu.resources.values()].filter(isSparseWeight);
        },
      });
      expect(sparse.map((w) => w.label).sort()).toEqual(Object.keys(expected(roles, options.pattern)).sort());
      expect(sparse.every((w) => w.type === type)).toBe(true);
      expect(r.compared).toBeGreaterThan(STEPS / 2);
    });
  }

  test("sparse weights split into row chunks under a low binding limit", async () => {
    const bytes = pruned("q8_0", 60, { pattern: "2:4", tensors: "ffn" });
    let chunks = 0;
    const r = await checkLogits(bytes, PROMPT, {
      steps: STEPS,
      tolerance: LOGIT_TOLERANCE,
      bindingLimit: 4 << 10,
      prefillChunk: 4,
      inspect: (gpu) => (chunks = (gpu.resources.get("layers.0.wUp") as GpuSparseWeight).chunks.length),
    });
    expect(chunks).toBeGreaterThan(1);
    expect(r.compared).toBeGreaterThan(STEPS / 2);
  });

  test("prune, import, load and generate through the engine: the reference's greedy tokens", async () => {
    const bytes = pruned("q4_0", 61, { pattern: "2:4", tensors: "all" });
    const engine = new Engine({ storePrefix: `skiff-sparse-engine-${Date.now()}`, prefillChunk: 8 });
    try {
      const model = await engine.importModel(new Blob([bytes as BlobPart]), { name: "pruned.gguf" });
      expect(model.sparseTensors.map((t) => t.name).sort()).toEqual(
        Object.keys(expected([...ATTN, ...FFN], "2:4")).sort(),
      );
      expect(model.sparseTensors.every((t) => t.pattern === "2:4" && t.type === "q4_0")).toBe(true);
      await engine.load(model.id);
      const got = await engine.generate(PROMPT, { temperature: 0, maxTokens: 12, stopAtEos: false });
      const { config, weights } = referenceWeightsFromGguf(bytes);
      expect(got.tokenIds).toEqual(greedyReference(new ReferenceLlama(config, weights), PROMPT, 12));
    } finally {
      engine.dispose();
    }
  });

  test("tuning times the sparse kernels against the dense ones on the expanded weight; both generate the same", async () => {
    const bytes = pruned("q4_0", 62, { pattern: "2:4", tensors: "all" });
    const engine = new Engine({ storePrefix: `skiff-sparse-tune-${Date.now()}`, prefillChunk: 8 });
    try {
      const model = await engine.importModel(new Blob([bytes as BlobPart]), { name: "pruned.gguf" });
      const info = await engine.load(model.id, { tuning: "retune", tuningBudgetMs: 60_000 });
      const sparse = info.tuning.records.filter((r) => r.key.startsWith("sparse-gemv:2:4-q4_0:"));
      // wq/wo, wk/wv, gate/up and down: four shapes, each timed sparse and dense.
      expect(sparse.map((r) => r.key).sort()).toEqual(
        ["160x64", "32x64", "64x160", "64x64"].map((s) => `sparse-gemv:2:4-q4_0:${s}`).sort(),
      );
      for (const r of sparse) {
        expect(
          r.candidates.filter((c) => c.ms !== null).some((c) => c.choice.weights === "dense"),
          r.key,
        ).toBe(true);
        expect(
          r.candidates.filter((c) => c.ms !== null).some((c) => c.choice.weights === undefined),
          r.key,
        ).toBe(true);
      }
      // GPU memory: a dense copy is kept for a tensor where an op chose it, and its sparse planes are freed where
      // both of its ops (decode GEMV, prefill GEMM) did.
      const { store, manifest } = await imported(bytes);
      const need = planMemory(manifest, info.contextLength);
      await store.remove(manifest.id);
      let want = need.weights + need.kv;
      const chose = (op: string, rows: number, cols: number) =>
        info.tuning.choices[`${op}:2:4-q4_0:${rows}x${cols}`]?.endsWith("+dense") ?? false;
      for (const t of manifest.tensors.filter((x) => x.sparse)) {
        const [rows, cols] = t.shape;
        const dense = [chose("sparse-gemv", rows, cols), chose("sparse-gemm", rows, cols)];
        if (dense.some(Boolean)) want += weightBytes("q4_0", rows, cols);
        if (dense.every(Boolean)) want -= sparseBytes(parsePattern("2:4"), "q4_0", rows, cols);
      }
      expect(info.gpuBytes).toBe(want);
      const got = await engine.generate(PROMPT, { temperature: 0, maxTokens: 12, stopAtEos: false });
      const { config, weights } = referenceWeightsFromGguf(bytes);
      expect(got.tokenIds).toEqual(greedyReference(new ReferenceLlama(config, weights), PROMPT, 12));
    } finally {
      engine.dispose();
    }
  });

  test("with the dense choice stored for every sparse op, the expanded weights run and equal the reference", async () => {
    const ctx = await testContext();
    const shapes = ["160x64", "32x64", "64x160", "64x64"];
    const keys = shapes.flatMap((s) => [`sparse-gemv:2:4-q8_0:${s}`, `sparse-gemm:2:4-q8_0:${s}`]);
    for (const k of keys) ctx.tuner.choices.set(k, { variant: "rowwise", workgroupSize: 64, weights: "dense" });
    try {
      for (const k of keys) ctx.tuner.used.delete(k);
      ctx.tuner.used.delete("gemv:q8_0:160x64");
      const r = await checkLogits(pruned("q8_0", 63, { pattern: "2:4", tensors: "all" }), PROMPT, {
        steps: STEPS,
        tolerance: LOGIT_TOLERANCE,
      });
      // Every sparse op ran the stored dense choice, through the dense launchers (forced, not tuned again).
      for (const k of keys) expect(ctx.tuner.used.get(k), k).toEqual(ctx.tuner.choices.get(k));
      expect(ctx.tuner.used.get("gemv:q8_0:160x64")).toEqual({ variant: "rowwise", workgroupSize: 64 });
      expect(r.compared).toBeGreaterThan(STEPS / 2);
    } finally {
      for (const k of keys) ctx.tuner.choices.delete(k);
    }
  });
});

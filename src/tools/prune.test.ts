// pruneGguf on synthetic models of each prunable type and on stories260K: the pruned tensors have the exact N:M
// pattern and hold what pruneNM (or SparseGPT's sweep) gives, everything else is byte-identical, Wanda's norms and
// SparseGPT's Gram matrices come from the reference model layer by layer, and bad arguments, shapes and types are
// refused with messages naming them.
import { describe, expect, test } from "vitest";
import { readFileSync } from "node:fs";
import { SkiffError, type SkiffErrorCode } from "../errors.ts";
import { parseGgufHeader, type GgufArray, type GgufHeader, type GgufValue } from "../loaders/gguf.ts";
import { writeGguf, type GgufWriteValue } from "../loaders/gguf-writer.ts";
import { dequantize, quantize, type WeightType } from "../loaders/ggml-quants.ts";
import { GGML_TYPE, weightTypeOf } from "../loaders/ggml-types.ts";
import { syntheticLlamaGguf, type SyntheticLlamaOptions } from "../loaders/synthetic-model.ts";
import { ReferenceLlama, greedyReference } from "../reference/forward.ts";
import { referenceWeightsFromGguf } from "../reference/gguf-weights.ts";
import { freshSeed } from "../kernels/testing.ts";
import { detectNM, parsePattern, patternName } from "../loaders/sparse-nm.ts";
import { hasNMPattern, pruneNM } from "./nm-select.ts";
import { pruneGguf, pruneModel, PRUNE_GROUPS, type PruneOptions } from "./prune.ts";
import { inputGrams, pruneSparseGpt } from "./sparsegpt.ts";
import { inputNorms, LINEAR_ROLES, type LinearRole } from "./wanda.ts";

const SHAPE: Omit<SyntheticLlamaOptions, "type" | "seed"> = {
  dim: 64,
  hiddenDim: 96,
  nLayers: 2,
  nHeads: 4,
  nKvHeads: 2,
  vocabSize: 300,
  seqLen: 64,
};

const GGUF_ROLE_NAMES = {
  wq: "attn_q",
  wk: "attn_k",
  wv: "attn_v",
  wo: "attn_output",
  wGate: "ffn_gate",
  wUp: "ffn_up",
  wDown: "ffn_down",
} as const;

function selectedNames(group: keyof typeof PRUNE_GROUPS, nLayers: number): Set<string> {
  const names = new Set<string>();
  for (let l = 0; l < nLayers; l++)
    for (const r of PRUNE_GROUPS[group]) names.add(`blk.${l}.${GGUF_ROLE_NAMES[r]}.weight`);
  return names;
}

function tensor(bytes: Uint8Array, header: GgufHeader, name: string) {
  const info = header.tensors.find((t) => t.name === name)!;
  const raw = bytes.subarray(info.offset, info.offset + info.byteSize);
  const count = info.dims.reduce((a, b) => a * b, 1);
  return { info, raw, values: dequantize(weightTypeOf(info.type)!, raw, count), cols: info.dims[0], count };
}

function expectSkiffError(run: () => unknown, code: SkiffErrorCode, ...parts: string[]): void {
  let error: unknown;
  try {
    run();
  } catch (e) {
    error = e;
  }
  expect(error, `expected ${code} naming ${parts.join(", ")}`).toBeInstanceOf(SkiffError);
  expect((error as SkiffError).code).toBe(code);
  for (const part of parts) expect((error as SkiffError).message).toContain(part);
}

/** Prunes a tensor's dequantized values in place, as the tool should have. */
type Prune = (name: string, w: Float64Array, rows: number, cols: number) => void;

const magnitude =
  (options: PruneOptions): Prune =>
  (_, w, rows, cols) =>
    pruneNM(w, rows, cols, parsePattern(options.pattern));

/**
 * Checks `pruned` against `original`: same length and header bytes, unselected tensors byte-identical, selected
 * ones in the same type with the N:M pattern and exactly the bytes of re-quantizing `prune`'s result (default:
 * pruneNM's magnitude pick).
 */
function expectPruned(original: Uint8Array, pruned: Uint8Array, options: PruneOptions, prune = magnitude(options)) {
  const header = parseGgufHeader(original, original.byteLength);
  const after = parseGgufHeader(pruned, pruned.byteLength);
  expect(pruned.byteLength).toBe(original.byteLength);
  expect(
    Buffer.from(pruned.subarray(0, header.dataOffset)).equals(Buffer.from(original.subarray(0, header.dataOffset))),
  ).toBe(true);
  expect(after.tensors).toEqual(header.tensors);
  const pattern = parsePattern(options.pattern);
  const selected = selectedNames(options.tensors ?? "all", Number(header.metadata.get("llama.block_count")));
  for (const info of header.tensors) {
    const before = tensor(original, header, info.name);
    const now = tensor(pruned, after, info.name);
    // What import will see: exactly the pruned tensors are N:M, at the pattern asked for.
    const found = detectNM(now.values, now.count / now.cols, now.cols);
    if (!selected.has(info.name)) {
      expect(Buffer.from(now.raw).equals(Buffer.from(before.raw)), `${info.name} untouched`).toBe(true);
      expect(found, `${info.name} stays dense`).toBeUndefined();
      continue;
    }
    expect(hasNMPattern(now.values, now.cols, pattern), `${info.name} is ${options.pattern}`).toBe(true);
    expect(found && patternName(found), `${info.name} is detected as ${options.pattern}`).toBe(options.pattern);
    const want = before.values.slice();
    prune(info.name, want, before.count / before.cols, before.cols);
    const type = weightTypeOf(info.type)!;
    expect(Buffer.from(now.raw).equals(Buffer.from(quantize(type, want))), `${info.name} holds the expected pick`).toBe(
      true,
    );
  }
}

describe("pruneGguf: magnitude", () => {
  test.each(["f32", "f16", "q8_0", "q4_0", "q5_0"] as WeightType[])("%s model, 2:4 on all linear layers", (type) => {
    const seed = freshSeed();
    const original = syntheticLlamaGguf({ ...SHAPE, type, seed });
    const options: PruneOptions = { pattern: "2:4", method: "magnitude", tensors: "all" };
    const result = pruneModel(original, options);
    expect(result.tensors.map((t) => t.name)).toEqual([...selectedNames("all", SHAPE.nLayers)].sort(byLayerOrder));
    for (const t of result.tensors)
      expect(t.zeros, `seed ${seed} ${t.name}`).toBeGreaterThanOrEqual((t.rows * t.cols) / 2);
    expectPruned(original, result.bytes, options);
    // The pruned file still loads and runs.
    const { config, weights } = referenceWeightsFromGguf(result.bytes);
    expect(greedyReference(new ReferenceLlama(config, weights, 16), [1, 300 - 1], 4)).toHaveLength(4);
  });

  test.each([
    ["1:4", "ffn"],
    ["2:8", "attn"],
    ["4:8", "all"],
    ["2:4", "attn"],
  ] as const)("%s on %s leaves the other tensors byte-identical", (pattern, tensors) => {
    const original = syntheticLlamaGguf({ ...SHAPE, type: "q8_0", seed: freshSeed() });
    const options: PruneOptions = { pattern, tensors };
    expectPruned(original, pruneGguf(original, options), options);
  });
});

/** Each layer's statistics as pruneModel should have gathered them: layer l on the dense model with layers < l
 *  replaced by the output's (pruned, re-quantized) ones; keyed by tensor name. */
function layerByLayer<T>(
  original: Uint8Array,
  pruned: Uint8Array,
  capacity: number,
  gather: (model: ReferenceLlama, layer: number) => Partial<Record<LinearRole, T>>,
): Map<string, T> {
  const dense = referenceWeightsFromGguf(original);
  const outWeights = referenceWeightsFromGguf(pruned).weights;
  const byName = new Map<string, T>();
  for (let l = 0; l < dense.config.nLayers; l++) {
    const layers = dense.weights.layers.map((w, i) => (i < l ? outWeights.layers[i] : w));
    const byRole = gather(new ReferenceLlama(dense.config, { ...dense.weights, layers }, capacity), l);
    for (const role of LINEAR_ROLES) {
      const value = byRole[role];
      if (value) byName.set(`blk.${l}.${GGUF_ROLE_NAMES[role]}.weight`, value);
    }
  }
  return byName;
}

describe("pruneGguf: wanda", () => {
  test("layer by layer: each layer's norms come from the reference model with the layers before it pruned", () => {
    const original = syntheticLlamaGguf({ ...SHAPE, type: "f32", seed: freshSeed() });
    const calibrationIds = [
      [1, 40, 41, 299, 7],
      [1, 5, 6, 7, 8, 9, 10, 11],
      [2, 200],
    ];
    const options: PruneOptions = { pattern: "2:4", method: "wanda", tensors: "all", calibrationIds };
    const result = pruneModel(original, options);
    expect(result.calibrationTokens).toBe(15);
    // Layer 0 sees the dense model; layer 1 the model with layer 0 pruned (as in the output, whose layer 1 is
    // pruned too but is not what layer 1's norms saw: layerByLayer rebuilds that model from layer 0 of the output).
    const norms = layerByLayer(original, result.bytes, 8, (model, l) => inputNorms(model, l, calibrationIds));
    expectPruned(original, result.bytes, options, (name, w, rows, cols) =>
      pruneNM(w, rows, cols, { n: 2, m: 4 }, norms.get(name)),
    );
    // Activation norms are not uniform, so Wanda picks differently from magnitude somewhere.
    const byMagnitude = pruneGguf(original, { pattern: "2:4" });
    expect(Buffer.from(byMagnitude).equals(Buffer.from(result.bytes))).toBe(false);
  });

  test("default calibration: tokens sampled from the model itself, deterministic", () => {
    const original = syntheticLlamaGguf({ ...SHAPE, nLayers: 1, type: "q4_0", seed: freshSeed() });
    const a = pruneModel(original, { pattern: "2:4", method: "wanda", tensors: "ffn" });
    expect(a.calibrationTokens).toBe(8 * 64);
    expect(
      Buffer.from(pruneGguf(original, { pattern: "2:4", method: "wanda", tensors: "ffn" })).equals(
        Buffer.from(a.bytes),
      ),
    ).toBe(true);
    const h = parseGgufHeader(a.bytes, a.bytes.byteLength);
    for (const name of selectedNames("ffn", 1)) {
      const t = tensor(a.bytes, h, name);
      expect(hasNMPattern(t.values, t.cols, { n: 2, m: 4 }), name).toBe(true);
    }
  });
});

describe("pruneGguf: sparsegpt", () => {
  test.each([
    ["f32", "2:4", "all"],
    ["q8_0", "4:8", "attn"],
    ["q4_0", "1:4", "ffn"],
  ] as const)("%s %s on %s: the sweep on H gathered layer by layer on the pruned model", (type, pattern, tensors) => {
    const original = syntheticLlamaGguf({ ...SHAPE, type, seed: freshSeed() });
    const calibrationIds = [
      [1, 40, 41, 299, 7, 8, 9, 10, 11, 12],
      [1, 5, 6, 7, 8, 9, 10, 11],
      [2, 200, 3],
    ];
    const options: PruneOptions = { pattern, method: "sparsegpt", tensors, calibrationIds };
    const result = pruneModel(original, options);
    expect(result.method).toBe("sparsegpt");
    expect(result.calibrationTokens).toBe(21);
    const grams = layerByLayer(original, result.bytes, 10, (model, l) =>
      inputGrams(model, l, calibrationIds, PRUNE_GROUPS[tensors]),
    );
    expectPruned(original, result.bytes, options, (name, w, rows, cols) =>
      pruneSparseGpt(w, rows, cols, parsePattern(pattern), grams.get(name)!),
    );
    // The kept weights moved: not magnitude's or Wanda's pick re-quantized.
    for (const method of ["magnitude", "wanda"] as const) {
      const other = pruneGguf(original, { pattern, tensors, method, ...(method === "wanda" && { calibrationIds }) });
      expect(Buffer.from(other).equals(Buffer.from(result.bytes)), method).toBe(false);
    }
  });

  test("default calibration, deterministic", () => {
    const original = syntheticLlamaGguf({ ...SHAPE, nLayers: 1, type: "q8_0", seed: freshSeed() });
    const options: PruneOptions = { pattern: "2:4", method: "sparsegpt", tensors: "ffn" };
    const a = pruneModel(original, options);
    expect(a.calibrationTokens).toBe(8 * 64);
    expect(Buffer.from(pruneGguf(original, options)).equals(Buffer.from(a.bytes))).toBe(true);
    const h = parseGgufHeader(a.bytes, a.bytes.byteLength);
    for (const name of selectedNames("ffn", 1)) {
      const t = tensor(a.bytes, h, name);
      expect(hasNMPattern(t.values, t.cols, { n: 2, m: 4 }), name).toBe(true);
    }
  });
});

describe("pruneGguf refuses", () => {
  const model = syntheticLlamaGguf({ ...SHAPE, nLayers: 1, type: "f32", seed: 1 });
  test("bad arguments, naming them", () => {
    expectSkiffError(() => pruneGguf(model, { pattern: "3:2" }), "bad-argument", '"3:2"');
    expectSkiffError(() => pruneGguf(model, { pattern: "0:4" }), "bad-argument", '"0:4"');
    const loose = (o: object) => o as PruneOptions;
    expectSkiffError(
      () => pruneGguf(model, loose({ pattern: "2:4", tensors: "mlp" })),
      "bad-argument",
      '"mlp"',
      "ffn, attn, all",
    );
    expectSkiffError(
      () => pruneGguf(model, loose({ pattern: "2:4", tensors: "toString" })),
      "bad-argument",
      '"toString"',
    );
    expectSkiffError(
      () => pruneGguf(model, loose({ pattern: "2:4", method: "obs" })),
      "bad-argument",
      '"obs"',
      "magnitude, wanda, sparsegpt",
    );
    expectSkiffError(
      () => pruneGguf(model, { pattern: "2:4", calibrationIds: [[1, 2]] }),
      "bad-argument",
      "wanda or sparsegpt",
      "not magnitude",
    );
    const wanda = (calibrationIds: unknown) => () =>
      pruneGguf(model, loose({ pattern: "2:4", method: "wanda", calibrationIds }));
    expectSkiffError(wanda([[1, 300]]), "bad-argument", "300", "below 300");
    expectSkiffError(wanda([[1, 2], []]), "bad-argument", "sequence 1");
    expectSkiffError(wanda([[1.5]]), "bad-argument", "1.5");
    expectSkiffError(wanda([]), "bad-argument", "number[][]");
    expectSkiffError(wanda([new Array(65).fill(1)]), "bad-argument", "65 tokens", "64");
  });

  test("rows that are not whole groups of M, naming the tensor", () => {
    const odd = syntheticLlamaGguf({ ...SHAPE, hiddenDim: 100, nLayers: 1, type: "f32", seed: 2 });
    expectSkiffError(
      () => pruneGguf(odd, { pattern: "2:8", tensors: "ffn" }),
      "bad-shape",
      "blk.0.ffn_down.weight",
      "100",
    );
    expectPruned(odd, pruneGguf(odd, { pattern: "2:4", tensors: "ffn" }), { pattern: "2:4", tensors: "ffn" });
  });

  test("types whose pruned weights cannot stay exactly zero, naming the tensor and type", () => {
    const q41 = syntheticLlamaGguf({ ...SHAPE, nLayers: 1, type: "q4_1", seed: 3 });
    expectSkiffError(() => pruneGguf(q41, { pattern: "2:4" }), "unsupported-type", "blk.0.attn_q.weight", "Q4_1");
    const q51 = syntheticLlamaGguf({ ...SHAPE, nLayers: 1, type: "q5_1", seed: 3 });
    expectSkiffError(
      () => pruneGguf(q51, { pattern: "2:4", tensors: "ffn" }),
      "unsupported-type",
      "blk.0.ffn_gate.weight",
      "Q5_1",
    );
    // A K-quant tensor (random blocks: refused before its data is read); the FFN alone, in F32, still prunes.
    const kq = withTensorType(
      syntheticLlamaGguf({ ...SHAPE, dim: 256, nLayers: 1, type: "f32", seed: 4 }),
      "blk.0.attn_k.weight",
      GGML_TYPE.Q4_K,
      144,
    );
    expectSkiffError(
      () => pruneGguf(kq, { pattern: "2:4", tensors: "attn" }),
      "unsupported-type",
      "blk.0.attn_k.weight",
      "Q4_K",
    );
    expectPruned(kq, pruneGguf(kq, { pattern: "2:4", tensors: "ffn" }), { pattern: "2:4", tensors: "ffn" });
  });
});

describe("stories260K", () => {
  const f32 = new Uint8Array(readFileSync(new URL("../../../shared/models/stories260K-f32.gguf", import.meta.url)));
  const q4 = new Uint8Array(readFileSync(new URL("../../../shared/models/stories260K-q4_0.gguf", import.meta.url)));
  test("2:4 by magnitude (f32, all), Wanda (q4_0, FFN), SparseGPT (q4_0, all): exact pattern, still generates", () => {
    for (const [bytes, options] of [
      [f32, { pattern: "2:4" }],
      [q4, { pattern: "2:4", method: "wanda", tensors: "ffn" }],
      [q4, { pattern: "2:4", method: "sparsegpt", tensors: "all" }],
    ] as const) {
      const pruned = pruneGguf(bytes, options);
      const h = parseGgufHeader(pruned, pruned.byteLength);
      for (const name of selectedNames(options.tensors ?? "all", 5)) {
        const t = tensor(pruned, h, name);
        expect(hasNMPattern(t.values, t.cols, { n: 2, m: 4 }), name).toBe(true);
      }
      const { config, weights } = referenceWeightsFromGguf(pruned);
      const ids = greedyReference(new ReferenceLlama(config, weights, 32), [1], 20);
      expect(ids.every((t) => t >= 0 && t < 512)).toBe(true);
    }
  });
});

/** Orders tensor names as the file does: by layer, then q, k, v, o, gate, up, down. */
function byLayerOrder(a: string, b: string): number {
  const rank = (n: string) => {
    const [, l, role] = /^blk\.(\d+)\.(\w+)\.weight$/.exec(n)!;
    return Number(l) * 10 + Object.values(GGUF_ROLE_NAMES).indexOf(role as never);
  };
  return rank(a) - rank(b);
}

/** The GGUF rewritten with tensor `name` in ggml type `type` (random blocks of `blockBytes` per 256 weights). */
function withTensorType(bytes: Uint8Array, name: string, type: number, blockBytes: number): Uint8Array {
  const h = parseGgufHeader(bytes, bytes.byteLength);
  const metadata: [string, GgufWriteValue][] = [...h.metadata].map(([k, v]) => [k, writeValue(v)]);
  const tensors = h.tensors.map((t) => {
    if (t.name !== name)
      return { name: t.name, dims: t.dims, type: t.type, data: bytes.slice(t.offset, t.offset + t.byteSize) };
    const count = t.dims.reduce((a, b) => a * b, 1);
    const data = Uint8Array.from({ length: (count / 256) * blockBytes }, (_, i) => (i * 37) & 0xff);
    return { name, dims: t.dims, type, data };
  });
  return writeGguf({ metadata, tensors });
}

/** The writer's form of a value the synthetic models write (strings, u32/f32, bools, f32/i32/string arrays). */
function writeValue(v: GgufValue): GgufWriteValue {
  if (typeof v === "string") return { type: "string", value: v };
  if (typeof v === "boolean") return { type: "bool", value: v };
  if (typeof v === "number")
    return Number.isInteger(v) && v >= 0 ? { type: "u32", value: v } : { type: "f32", value: v };
  const a: GgufArray = v;
  if (a instanceof Float32Array) return { type: "f32[]", value: a };
  if (a instanceof Int32Array) return { type: "i32[]", value: a };
  return { type: "string[]", value: a as string[] };
}

// Llama-family GGUF config and tensor map: metadata keys and their defaults per architecture, qwen2 biases,
// RoPE scaling metadata (llama3 and linear) and the refusals that name what Skiff does not run.
import { describe, expect, test } from "vitest";
import { parseGgufHeader, type GgufHeader } from "./gguf.ts";
import { llamaConfigFromGguf, llamaTensorMap } from "./gguf-llama.ts";
import { syntheticLlamaGguf, type SyntheticLlamaOptions } from "./synthetic-model.ts";
import { SkiffError } from "../errors.ts";
import { llama3RopeFactors, ropeFreqFactors } from "../models/rope-scaling.ts";

const base: SyntheticLlamaOptions = {
  dim: 48,
  hiddenDim: 64,
  nLayers: 2,
  nHeads: 4,
  nKvHeads: 2,
  vocabSize: 270,
  seqLen: 512,
  type: "f32",
  seed: 1,
};

function header(o: Partial<SyntheticLlamaOptions> = {}): GgufHeader {
  const bytes = syntheticLlamaGguf({ ...base, ...o });
  return parseGgufHeader(bytes, bytes.byteLength);
}

function expectSkiffError(f: () => unknown, code: string, message: RegExp): void {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SkiffError);
    expect((e as SkiffError).code).toBe(code);
    expect((e as SkiffError).message).toMatch(message);
    return;
  }
  throw new Error(`expected a SkiffError ${code} matching ${message}`);
}

describe("llama and qwen2 config from GGUF metadata", () => {
  test("llama: keys read, adjacent RoPE, no biases, untied", () => {
    const c = llamaConfigFromGguf(header({ ropeTheta: 500000 }));
    expect(c).toMatchObject({
      architecture: "llama",
      dim: 48,
      hiddenDim: 64,
      nLayers: 2,
      nHeads: 4,
      nKvHeads: 2,
      headSize: 12,
      kvDim: 24,
      vocabSize: 270,
      seqLen: 512,
      ropeTheta: 500000,
      nRot: 12,
      ropeLayout: "adjacent",
      tiedOutput: false,
    });
    expect(c.normEps).toBeCloseTo(1e-5, 10);
    expect(c.biases).toBeUndefined();
    expect(c.ropeScaling).toBeUndefined();
    expect(c.slidingWindow).toBeUndefined();
  });

  test("defaults for absent keys: kv heads = heads, context 2048, eps 1e-5, theta 10000, nRot = head size", () => {
    const h = header({ nKvHeads: 4 });
    for (const key of [
      "llama.attention.head_count_kv",
      "llama.context_length",
      "llama.attention.layer_norm_rms_epsilon",
      "llama.rope.freq_base",
    ]) {
      expect(h.metadata.delete(key), key).toBe(true);
    }
    const c = llamaConfigFromGguf(h);
    expect(c).toMatchObject({ nKvHeads: 4, seqLen: 2048, normEps: 1e-5, ropeTheta: 10000, nRot: 12 });
  });

  test("qwen2: keys under qwen2.*, halves RoPE, q/k/v biases found and mapped for every layer", () => {
    const h = header({ architecture: "qwen2", tiedOutput: true, ropeTheta: 1e6 });
    const c = llamaConfigFromGguf(h);
    expect(c).toMatchObject({ architecture: "qwen2", ropeLayout: "halves", tiedOutput: true, ropeTheta: 1e6 });
    expect(c.biases).toEqual(["bq", "bk", "bv"]);
    const map = llamaTensorMap(h, c);
    expect(map.output).toBe(map.tokenEmbedding);
    for (const [l, layer] of map.layers.entries()) {
      expect(layer.bq?.name).toBe(`blk.${l}.attn_q.bias`);
      expect(layer.bk?.dims).toEqual([24]);
      expect(layer.bv?.dims).toEqual([24]);
      expect(layer.bo).toBeUndefined();
    }
  });

  test("qwen2 without biases and llama with them are both read as the file says", () => {
    expect(llamaConfigFromGguf(header({ architecture: "qwen2", biases: false })).biases).toBeUndefined();
    expect(llamaConfigFromGguf(header({ biases: true })).biases).toEqual(["bq", "bk", "bv"]);
  });

  test("a bias missing from one layer, or of the wrong length, is a bad file", () => {
    const h = header({ architecture: "qwen2" });
    h.tensors = h.tensors.filter((t) => t.name !== "blk.1.attn_k.bias");
    expectSkiffError(
      () => llamaTensorMap(h, llamaConfigFromGguf(h)),
      "bad-gguf",
      /missing tensor blk\.1\.attn_k\.bias/,
    );
    const g = header({ architecture: "qwen2" });
    g.tensors.find((t) => t.name === "blk.0.attn_v.bias")!.dims = [48];
    expectSkiffError(() => llamaTensorMap(g, llamaConfigFromGguf(g)), "bad-gguf", /attn_v\.bias has shape \[48\]/);
  });

  test("a layer tensor the graph has no place for is refused by name", () => {
    const h = header();
    const up = h.tensors.find((t) => t.name === "blk.0.ffn_up.weight")!;
    h.tensors.push({ ...up, name: "blk.0.ffn_up.bias", dims: [64] });
    expectSkiffError(
      () => llamaTensorMap(h, llamaConfigFromGguf(h)),
      "unsupported-architecture",
      /blk\.0\.ffn_up\.bias has no place in the llama graph/,
    );
  });

  test("unsupported architectures are refused by name, listing what runs", () => {
    for (const arch of ["mamba", "qwen3", "gemma2"]) {
      expectSkiffError(
        () => llamaConfigFromGguf(header({ architecture: arch })),
        "unsupported-architecture",
        new RegExp(`Architecture "${arch}" is not supported yet \\(Skiff runs: llama, qwen2\\)`),
      );
    }
  });

  test("sliding window is read (the loader refuses contexts past it)", () => {
    expect(llamaConfigFromGguf(header({ slidingWindow: 256 })).slidingWindow).toBe(256);
  });
});

describe("RoPE scaling metadata", () => {
  const llama31 = {
    type: "llama3",
    factor: 8,
    lowFreqFactor: 1,
    highFreqFactor: 4,
    originalContextLength: 8192,
  } as const;

  test("llama3 keys are read into the config", () => {
    const c = llamaConfigFromGguf(header({ ropeScaling: llama31 }));
    expect(c.ropeScaling).toEqual(llama31);
  });

  test("low/high frequency factors with no type mean llama3; missing keys take the converter's defaults", () => {
    const h = header({ ropeScaling: { ...llama31, lowFreqFactor: 2 } });
    for (const k of ["type", "factor", "high_freq_factor", "original_context_length"]) {
      h.metadata.delete(`llama.rope.scaling.${k}`);
    }
    expect(llamaConfigFromGguf(h).ropeScaling).toEqual({ ...llama31, lowFreqFactor: 2 });
  });

  test("llama3 divisors equal transformers' inv_freq scaling (Llama 3.1 8B: theta 5e5, 128 dims)", () => {
    const nRot = 128;
    const theta = 500000;
    const got = llama3RopeFactors(nRot, theta, llama31);
    // transformers' _compute_llama3_parameters, written out here independently in float64.
    const lowWavelen = 8192 / 1;
    const highWavelen = 8192 / 4;
    let smoothCount = 0;
    for (let i = 0; i < nRot / 2; i++) {
      const invFreq = 1 / Math.pow(theta, (2 * i) / nRot);
      const wavelen = (2 * Math.PI) / invFreq;
      let scaled = wavelen > lowWavelen ? invFreq / 8 : invFreq;
      if (!(wavelen < highWavelen) && !(wavelen > lowWavelen)) {
        const smooth = (8192 / wavelen - 1) / (4 - 1);
        scaled = ((1 - smooth) * scaled) / 8 + smooth * scaled;
        smoothCount++;
      }
      expect(Math.abs(invFreq / got[i] - scaled) / scaled, `pair ${i}`).toBeLessThan(1e-6);
    }
    expect(got[0]).toBe(1);
    expect(got[nRot / 2 - 1]).toBe(8);
    expect(smoothCount).toBeGreaterThan(0);
  });

  test("llama3 scaling gives divisors only where the file has no rope_freqs; stored ones win", () => {
    const c = llamaConfigFromGguf(header({ ropeScaling: llama31, nRot: 8 }));
    expect(ropeFreqFactors(c)).toEqual(llama3RopeFactors(8, c.ropeTheta, llama31));
    const stored = Float32Array.of(1, 2, 3, 4);
    expect(ropeFreqFactors(c, stored)).toBe(stored);
    expect(ropeFreqFactors(llamaConfigFromGguf(header()))).toBeUndefined();
  });

  test("linear scaling: by type, by a bare factor, or by the old rope.scale_linear; it multiplies stored divisors", () => {
    const c = llamaConfigFromGguf(header({ ropeScaling: { type: "linear", factor: 4 }, nRot: 6 }));
    expect(c.ropeScaling).toEqual({ type: "linear", factor: 4 });
    expect(Array.from(ropeFreqFactors(c)!)).toEqual([4, 4, 4]);
    expect(Array.from(ropeFreqFactors(c, Float32Array.of(1, 2, 3))!)).toEqual([4, 8, 12]);
    const bare = header({ ropeScaling: { type: "linear", factor: 2 } });
    bare.metadata.delete("llama.rope.scaling.type");
    expect(llamaConfigFromGguf(bare).ropeScaling).toEqual({ type: "linear", factor: 2 });
    const old = header({ metadata: [["llama.rope.scale_linear", { type: "f32", value: 3 }]] });
    expect(llamaConfigFromGguf(old).ropeScaling).toEqual({ type: "linear", factor: 3 });
    const none = header({ metadata: [["llama.rope.scaling.type", { type: "string", value: "none" }]] });
    expect(llamaConfigFromGguf(none).ropeScaling).toBeUndefined();
  });

  test("other scaling types and bad values are refused with the key named", () => {
    const yarn = header({ metadata: [["llama.rope.scaling.type", { type: "string", value: "yarn" }]] });
    expectSkiffError(
      () => llamaConfigFromGguf(yarn),
      "unsupported-architecture",
      /RoPE scaling "yarn" \(llama\.rope\.scaling\.type\) is not supported yet/,
    );
    const inverted = header({ ropeScaling: { ...llama31, lowFreqFactor: 4, highFreqFactor: 1 } });
    expectSkiffError(() => llamaConfigFromGguf(inverted), "bad-gguf", /low_freq_factor 4 < high_freq_factor 1/);
    const zero = header({ ropeScaling: { ...llama31, factor: 0 } });
    expectSkiffError(() => llamaConfigFromGguf(zero), "bad-gguf", /llama\.rope\.scaling\.factor = 0/);
  });
});

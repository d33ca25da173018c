// Whole models in every K-quant and legacy block type, and a mixed Q4_K_M-style file, on the GPU against the
// float64 reference: logits within tolerance and greedy ids equal, in both architectures, with GQA, biases, tied and
// untied output, and weights split into row chunks under a lowered binding limit.
import { describe, expect, test } from "vitest";
import { checkLogits } from "./parity-testing.ts";
import { syntheticLlamaGguf, type SyntheticLlamaOptions } from "../loaders/synthetic-model.ts";
import { readGgufHeader } from "../loaders/gguf.ts";
import { ggmlTypeName } from "../loaders/ggml-types.ts";
import type { WeightType } from "../loaders/ggml-quants.ts";

const LOGIT_TOLERANCE = 2e-4;
const PROMPT = [1, 100, 120, 140, 160, 180, 200];
const STEPS = 10;

/** K-quant rows are whole 256-element super-blocks: dim 256, hidden 512. */
const SHAPE = { dim: 256, hiddenDim: 512, nLayers: 2, nHeads: 4, nKvHeads: 2, vocabSize: 300, seqLen: 64 };

const cases: [WeightType, Partial<SyntheticLlamaOptions>][] = [
  ["q4_k", {}],
  ["q5_k", { architecture: "qwen2", tiedOutput: true }],
  ["q6_k", {}],
  ["q4_1", { architecture: "qwen2" }],
  ["q5_0", { tiedOutput: true }],
  ["q5_1", {}],
];

/** llama.cpp's Q4_K_M recipe, roughly: Q4_K, with attn_v, ffn_down and the output in Q6_K; rows that are not whole
 *  super-blocks (ffn_down here: hidden 352 = 11 x 32) fall back to a 32-block type, as llama.cpp does. */
const Q4_K_M: Partial<SyntheticLlamaOptions> = {
  hiddenDim: 352,
  tensorType: (name) => (/attn_v|ffn_down|^output\./.test(name) ? "q6_k" : undefined),
  fallbackType: "q5_0",
};

async function typesIn(bytes: Uint8Array): Promise<Record<string, string>> {
  const h = await readGgufHeader(new Blob([bytes as BlobPart]));
  return Object.fromEntries(h.tensors.filter((t) => t.dims.length === 2).map((t) => [t.name, ggmlTypeName(t.type)]));
}

describe("quantized models equal the reference", () => {
  for (const [type, extra] of cases) {
    test(`${type}: ${extra.architecture ?? "llama"}${extra.tiedOutput ? ", tied output" : ""}`, async () => {
      const bytes = syntheticLlamaGguf({ ...SHAPE, type, seed: 31, ...extra });
      const types = await typesIn(bytes);
      expect(types["blk.0.ffn_down.weight"]).toBe(type.toUpperCase());
      const r = await checkLogits(bytes, PROMPT, { steps: STEPS, tolerance: LOGIT_TOLERANCE });
      expect(r.compared).toBeGreaterThan(STEPS / 2);
    });
  }

  test("a mixed Q4_K_M-style file (Q4_K, Q6_K, Q5_0 by tensor) loads and runs, split under a low binding limit", async () => {
    const bytes = syntheticLlamaGguf({ ...SHAPE, ...Q4_K_M, type: "q4_k", seed: 32 });
    const types = await typesIn(bytes);
    expect(types["blk.0.attn_q.weight"]).toBe("Q4_K");
    expect(types["blk.0.attn_v.weight"]).toBe("Q6_K");
    expect(types["blk.1.ffn_down.weight"]).toBe("Q5_0");
    expect(types["output.weight"]).toBe("Q6_K");
    let chunks = 0;
    const r = await checkLogits(bytes, PROMPT, {
      steps: STEPS,
      tolerance: LOGIT_TOLERANCE,
      bindingLimit: 16 << 10,
      inspect: (gpu) => {
        const output = gpu.resources.get("output") as { chunks: unknown[] };
        chunks = output.chunks.length;
      },
    });
    expect(chunks).toBeGreaterThan(1);
    expect(r.compared).toBeGreaterThan(STEPS / 2);
  });
});

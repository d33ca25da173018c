// Test support for whole-model checks (browser tests only): a GGUF imported, loaded and run on the GPU step by
// step, its logits compared with the float64 reference fed the same tokens (the reference's greedy choices).
// Greedy ids must agree wherever the reference's top-two margin is larger than the stated error.
import { expect } from "vitest";
import { testContext, compare } from "../kernels/testing.ts";
import { withBindingLimit } from "../kernels/weight-fixtures.ts";
import { ModelStore } from "../storage/model-store.ts";
import { importGguf } from "../storage/import-gguf.ts";
import { loadGpuModel, type GpuModel } from "./gpu-model.ts";
import { buildLlamaStep } from "../models/llama.ts";
import { prepareStep, type PreparedStep } from "../graph/executor.ts";
import { opTable } from "../kernels/index.ts";
import { readF32 } from "../gpu/readback.ts";
import { ReferenceLlama } from "../reference/forward.ts";
import { argmax } from "../reference/ops.ts";
import { referenceWeightsFromGguf } from "../reference/gguf-weights.ts";

export interface ParityOptions {
  /** Decode steps after the prompt. */
  steps: number;
  /** Normalised logit error allowed per step. */
  tolerance: number;
  /** Tokens per prefill step (the prompt but its last token is prefilled in chunks of this many). */
  prefillChunk?: number;
  /** Lowers ctx.bindingLimit for load and run, so big weights are split into row chunks. */
  bindingLimit?: number;
  /** Called with the model once loaded (to check how its weights were uploaded). */
  inspect?: (gpu: GpuModel) => void;
}

export interface ParityResult {
  /** Steps whose greedy id was compared. */
  compared: number;
  /** Near-ties that were not. */
  skipped: number;
  worstError: number;
}

let n = 0;

export async function checkLogits(bytes: Uint8Array, prompt: number[], o: ParityOptions): Promise<ParityResult> {
  const ctx = await testContext();
  return o.bindingLimit === undefined ? run() : withBindingLimit(ctx, o.bindingLimit, run);

  async function run(): Promise<ParityResult> {
    const chunkSize = o.prefillChunk ?? 8;
    const store = new ModelStore(`skiff-parity-${Date.now()}-${n++}`);
    const manifest = await importGguf(store, new Blob([bytes as BlobPart]), { name: "parity.gguf" });
    const gpu = await loadGpuModel(ctx, store, manifest, {
      prefillChunk: chunkSize,
      contextLength: prompt.length + o.steps + 1,
    });
    o.inspect?.(gpu);
    const c = manifest.config;
    const steps: PreparedStep[] = [];
    const prepare = async (kind: "prefill" | "decode", nTokens: number) => {
      const step = await prepareStep(
        ctx,
        buildLlamaStep(c, { kind, nTokens, capacity: gpu.capacity }),
        gpu.resources,
        opTable,
      );
      steps.push(step);
      return step;
    };
    const submit = (step: PreparedStep, ids: number[], pos: number) => {
      ctx.device.queue.writeBuffer(gpu.tokens, 0, new Uint32Array(ids));
      step.setPosition(pos);
      const encoder = ctx.device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      step.encode(pass);
      pass.end();
      ctx.device.queue.submit([encoder.finish()]);
    };
    try {
      const decode = await prepare("decode", 1);
      for (let start = 0; start < prompt.length - 1; start += chunkSize) {
        const chunk = prompt.slice(start, Math.min(prompt.length - 1, start + chunkSize));
        submit(await prepare("prefill", chunk.length), chunk, start);
      }
      const { config, weights } = referenceWeightsFromGguf(bytes);
      const reference = new ReferenceLlama(config, weights, gpu.capacity);
      for (let pos = 0; pos < prompt.length - 1; pos++) reference.forward(prompt[pos], pos);
      let token = prompt[prompt.length - 1];
      const result: ParityResult = { compared: 0, skipped: 0, worstError: 0 };
      for (let s = 0; s < o.steps; s++) {
        const pos = prompt.length - 1 + s;
        submit(decode, [token], pos);
        const logits = decode.binding("logits");
        const got = await readF32(ctx.device, logits.buffer, logits.offset ?? 0, c.vocabSize);
        const want = reference.forward(token, pos);
        const { normalisedError } = compare(got, want);
        result.worstError = Math.max(result.worstError, normalisedError);
        expect(normalisedError, `step ${s}: logits differ from the reference`).toBeLessThanOrEqual(o.tolerance);
        const best = argmax(want);
        const sorted = Array.from(want).sort((a, b) => b - a);
        const scale = Math.max(...Array.from(want, Math.abs));
        if (sorted[0] - sorted[1] > 2 * o.tolerance * scale) {
          expect(argmax(got), `step ${s}: greedy id`).toBe(best);
          result.compared++;
        } else result.skipped++;
        token = best;
      }
      return result;
    } finally {
      steps.forEach((s) => s.destroy());
      gpu.destroy();
      await store.remove(manifest.id);
    }
  }
}

// tfjs-backend-webgpu as a peer: tf.matMul (f32) on tensors already uploaded, timed from the call to the queue
// going idle (submitQueue + onSubmittedWorkDone), never including a read-back.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-webgpu";
import type { WebGPUBackend } from "@tensorflow/tfjs-backend-webgpu";
import { errorText, stats, timeWall, timestampRuns } from "../timing.ts";
import { dotReference, spotCheck } from "../spot-check.ts";
import type { ContenderResult, MatmulCase, RunBudget } from "../types.ts";
import { randomF32 } from "../../src/kernels/testing.ts";

export const TFJS_DESCRIPTION = `@tensorflow/tfjs-core ${tf.version_core} + tfjs-backend-webgpu`;

export async function loadTfjs(): Promise<void> {
  if (!(await tf.setBackend("webgpu"))) throw new Error("tf.setBackend('webgpu') returned false");
  await tf.ready();
}

/** Times tf.matMul on one case; `transposeB` keeps W as (n, k) rows like Skiff, otherwise W is (k, n) like ORT. */
export async function benchTfjs(
  c: MatmulCase,
  transposeB: boolean,
  budget: RunBudget,
  random: () => number,
): Promise<ContenderResult> {
  const result: ContenderResult = {
    name: transposeB ? "tfjs matMul(W nxk, transposeB)" : "tfjs matMul(W kxn)",
    family: "tfjs",
    variant: transposeB ? "transposeB" : "plain",
    weightBytes: c.k * c.n * 4,
    timed:
      "tf.matMul() on GPU-resident tensors, then end tfjs's open compute pass, submitQueue() and " +
      "queue.onSubmittedWorkDone()",
  };
  const xData = randomF32(c.m * c.k, random);
  const wData = randomF32(c.k * c.n, random, 0.05);
  const x = tf.tensor2d(xData, [c.m, c.k]);
  const w = tf.tensor2d(wData, transposeB ? [c.n, c.k] : [c.k, c.n]);
  try {
    const backend = tf.backend() as WebGPUBackend;
    let y: tf.Tensor | undefined;
    const step = async () => {
      y?.dispose();
      y = tf.matMul(x, w, false, transposeB);
      // tfjs keeps a compute pass open across ops: end it and submit, as its own read-back path does.
      backend.ensureCommandEncoderReady();
      backend.endComputePassEncoder();
      backend.submitQueue();
      await backend.device.queue.onSubmittedWorkDone();
    };
    result.wall = await timeWall(step, budget);
    const got = (await y!.data()) as Float32Array;
    y!.dispose();
    const weight = transposeB
      ? (col: number, j: number) => wData[col * c.k + j]
      : (col: number, j: number) => wData[j * c.n + col];
    spotCheck(got, c.m, c.n, (row, col) => dotReference(xData, row * c.k, c.k, (j) => weight(col, j)));
    // tf.time reports the kernels' GPU time from timestamp queries; skipped when one run would not fit the budget.
    const samples: number[] = [];
    for (let i = 0; i < timestampRuns(result.wall, budget, 0); i++) {
      const info = await tf.time(() => tf.matMul(x, w, false, transposeB).dispose());
      if (typeof info.kernelMs !== "number" || !(info.kernelMs > 0)) break;
      samples.push(info.kernelMs);
    }
    if (samples.length) result.gpu = { ...stats(samples), source: "timestamp" };
  } catch (e) {
    result.error = errorText(e);
  } finally {
    x.dispose();
    w.dispose();
  }
  return result;
}

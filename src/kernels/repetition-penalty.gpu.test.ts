// repetition-penalty against the reference, stepping a history ring past its window.
import { describe, expect, test } from "vitest";
import { repetitionPenalty } from "./repetition-penalty.ts";
import { runDispatches } from "./dispatch.ts";
import { readF32, uploadBuffer } from "../gpu/readback.ts";
import { repetitionPenalty as reference } from "../reference/ops.ts";
import { freshSeed, randomF32, rng, testContext, expectClose } from "./testing.ts";

describe("repetition-penalty", () => {
  for (const [vocab, window, steps] of [
    [1, 1, 3],
    [257, 8, 20],
    [4161, 64, 70],
  ] as const) {
    test(`repetition-penalty(vocab=${vocab}, window=${window}, steps=${steps})`, async () => {
      const ctx = await testContext();
      const seed = freshSeed();
      const random = rng(seed);
      const penalty = 1.3;
      const tokens = uploadBuffer(ctx.device, new Uint32Array(1));
      const history = uploadBuffer(ctx.device, new Uint32Array(window));
      const logitsBuffer = uploadBuffer(ctx.device, new Float32Array(vocab));
      const k = await repetitionPenalty(ctx, { tokens, history, logits: logitsBuffer, vocab, window, pos: 0, penalty });
      const seen: number[] = [];
      for (let pos = 0; pos < steps; pos++) {
        // Few distinct ids, so repeats inside the window are common.
        const token = Math.floor(random() * Math.min(vocab, 5));
        seen.push(token);
        const logits = randomF32(vocab, random, 4);
        ctx.device.queue.writeBuffer(tokens, 0, new Uint32Array([token]));
        ctx.device.queue.writeBuffer(logitsBuffer, 0, logits as Float32Array<ArrayBuffer>);
        k.update({ pos });
        await runDispatches(ctx, k.dispatches);
        const got = await readF32(ctx.device, logitsBuffer, 0, vocab);
        const want = reference(Float64Array.from(logits), seen.slice(Math.max(0, pos - window + 1)), penalty);
        expectClose(`repetition-penalty pos ${pos}`, seed, got, want, 1e-7);
      }
    });
  }

  test("rejects a penalty that is not above 0", async () => {
    const ctx = await testContext();
    const b = uploadBuffer(ctx.device, new Uint32Array(8));
    expect(() =>
      repetitionPenalty(ctx, { tokens: b, history: b, logits: b, vocab: 4, window: 4, pos: 0, penalty: 0 }),
    ).toThrow(/penalty=0/);
  });
});

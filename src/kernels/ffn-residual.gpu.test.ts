// ffn-residual against the float64 reference: x += o in place, the cosine of x before and after into the layer's
// state (age 0), the layer's ran flag set, every other word of state and flags untouched.
import { describe, expect, test } from "vitest";
import { ffnResidual } from "./ffn-residual.ts";
import { FFN_STATE_BYTES } from "./ffn-plan.ts";
import { runDispatches } from "./dispatch.ts";
import { readBuffer, uploadBuffer } from "../gpu/readback.ts";
import { residualCosine } from "../reference/forward.ts";
import {
  expectClose,
  freshSeed,
  guardedOutput,
  POISON,
  randomF32,
  readGuardedF32,
  rng,
  testContext,
} from "./testing.ts";

const cases: [dim: number, workgroupSize: number | undefined][] = [
  [1, undefined],
  [64, 4],
  [257, 256],
  [4160, undefined],
  [33, 64],
];

async function run(x: Float32Array, o: Float32Array, layer: number, nLayers: number, workgroupSize?: number) {
  const ctx = await testContext();
  const dim = x.length;
  const xOut = guardedOutput(ctx, dim, "x");
  ctx.device.queue.writeBuffer(xOut.buffer, xOut.binding.offset, new Float32Array(x));
  const poison = new Uint32Array(nLayers * (FFN_STATE_BYTES / 4)).fill(POISON);
  const state = uploadBuffer(ctx.device, poison, "state", GPUBufferUsage.COPY_SRC);
  const ran = uploadBuffer(ctx.device, new Uint32Array(nLayers).fill(POISON), "ran", GPUBufferUsage.COPY_SRC);
  const k = await ffnResidual(ctx, {
    x: xOut.binding,
    o: uploadBuffer(ctx.device, o),
    state,
    ran,
    dim,
    layer,
    workgroupSize,
  });
  await runDispatches(ctx, k.dispatches);
  return {
    x: await readGuardedF32(ctx, xOut),
    state: await readBuffer(ctx.device, state),
    ran: new Uint32Array(await readBuffer(ctx.device, ran)),
  };
}

describe("ffn-residual", () => {
  for (const [dim, wg] of cases) {
    test(`ffn-residual(dim=${dim}, workgroupSize=${wg ?? "default"})`, async () => {
      const seed = freshSeed();
      const random = rng(seed);
      const x = randomF32(dim, random, 3);
      // A small FFN output, as in saturated layers, so the cosine is near 1 and its rounding shows.
      const o = randomF32(dim, random, 0.05);
      const nLayers = 5;
      const layer = 3;
      const got = await run(x, o, layer, nLayers, wg);
      const want = Float64Array.from(x);
      const cos = residualCosine(want, o, dim);
      expectClose(`ffn-residual x (dim=${dim})`, seed, got.x, want, 1e-6);
      const f = new Float32Array(got.state);
      const u = new Uint32Array(got.state);
      const w = FFN_STATE_BYTES / 4;
      expect(Math.abs(f[layer * w] - cos), `similarity (seed ${seed})`).toBeLessThan(2e-6);
      expect(u[layer * w + 1], "age").toBe(0);
      for (let l = 0; l < nLayers; l++) {
        expect(got.ran[l], `ran[${l}]`).toBe(l === layer ? 1 : POISON);
        const untouched = l === layer ? [2, 3] : [0, 1, 2, 3];
        for (const i of untouched) expect(u[l * w + i], `state word ${i} of layer ${l}`).toBe(POISON);
      }
    });
  }

  test("ffn-residual: a zero FFN output leaves x as it was and measures 1; zero x and output measure 1", async () => {
    const x = Float32Array.from({ length: 40 }, (_, i) => i - 20.5);
    const same = await run(x, new Float32Array(40), 0, 1);
    expect(Array.from(same.x)).toEqual(Array.from(x));
    expect(new Float32Array(same.state)[0]).toBe(1);
    const zero = await run(new Float32Array(8), new Float32Array(8), 0, 1);
    expect(new Float32Array(zero.state)[0]).toBe(1);
  });

  test("ffn-residual rejects bad shapes, naming them", async () => {
    const ctx = await testContext();
    const b = (words: number) => uploadBuffer(ctx.device, new Float32Array(words));
    const args = { x: b(8), o: b(8), state: b(8), ran: b(2), dim: 8, layer: 1 };
    expect(() => ffnResidual(ctx, { ...args, dim: 0 })).toThrow(/dim=0/);
    expect(() => ffnResidual(ctx, { ...args, o: b(4) })).toThrow(/o holds 16 bytes, needs 8/);
    expect(() => ffnResidual(ctx, { ...args, layer: 2 })).toThrow(/state .* needs 48 bytes/);
  });
});

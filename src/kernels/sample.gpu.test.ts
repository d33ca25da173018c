// sample against the CPU reference: exact tokens over many (seed, step, row) draws on both the workgroup-
// memory and the whole-vocabulary paths, the empirical distribution over 2000 draws, determinism, greedy.
import { describe, test, expect } from "vitest";
import { sample, sampleKernel, samplerParams, type Sampler } from "./sample.ts";
import { runDispatches } from "./dispatch.ts";
import { uploadBuffer } from "../gpu/readback.ts";
import { wgslParamFields } from "../gpu/uniforms.ts";
import { drawUniform } from "../decode/philox.ts";
import { argmax as argmaxRef, pickToken, samplingDistribution, type SamplingSettings } from "../reference/ops.ts";
import { freshSeed, guardedOutput, randomF32, readGuarded, rng, testContext } from "./testing.ts";

// GPU masses are f32 sums (relative error ~1e-6); a decision closer than this to a boundary is a near-tie
// that the f32 and float64 computations may resolve differently, so such draws are not compared.
const NEAR = 2e-5;

/** LLM-like logits, a broad tail and a few dozen tokens well above it; or flat ones (a wide nucleus). */
function makeLogits(n: number, random: () => number, rows: number, flat: boolean): Float32Array {
  const row = randomF32(n, random, flat ? 0.3 : 4);
  for (let j = 0; j < (flat ? 0 : Math.min(n, 40)); j++) row[Math.floor(random() * n)] = 8 + random() * 6;
  const all = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) all.set(row, r * n);
  return all;
}

/** Puts topP midway between two cumulative masses of the top-k distribution; returns it with its margin. */
function midwayTopP(logits: Float32Array, n: number, s: SamplingSettings, nominal: number): [number, number] {
  const probs = Array.from(samplingDistribution(logits, n, { ...s, topP: 1 })).sort((a, b) => b - a);
  let below = 0;
  for (const q of probs) {
    if (below + q >= nominal) {
      const p = Math.fround(below + q / 2);
      return [p, Math.min(below + q - p, p - below)];
    }
    below += q;
  }
  return [1, 1];
}

/** Distance from u to the nearest cumulative boundary, in index order, of a distribution. */
function pickMargin(probs: Float64Array, u: number): number {
  let cumulative = 0;
  let margin = Infinity;
  for (const q of probs) {
    if (q <= 0) continue;
    cumulative += q;
    margin = Math.min(margin, Math.abs(cumulative - u));
  }
  return margin;
}

async function draw(logits: Float32Array, n: number, rows: number, s: Sampler, workgroupSize?: number) {
  const ctx = await testContext();
  const out = guardedOutput(ctx, rows);
  const k = await sample(ctx, {
    ...s,
    logits: uploadBuffer(ctx.device, logits),
    out: out.binding,
    n,
    rows,
    workgroupSize,
  });
  await runDispatches(ctx, k.dispatches);
  return Array.from(await readGuarded(ctx, out));
}

interface Case {
  n: number;
  rows: number;
  temperature: number;
  topK: number;
  /** Nominal top-p; the test moves it to the middle of a gap between cumulative masses. */
  topP: number;
  flat?: boolean;
}

const cases: Case[] = [
  { n: 1, rows: 4, temperature: 1, topK: 0, topP: 1 },
  { n: 3, rows: 64, temperature: 1, topK: 0, topP: 1 },
  { n: 257, rows: 64, temperature: 0.8, topK: 40, topP: 0.9 },
  { n: 257, rows: 64, temperature: 1.2, topK: 0, topP: 0.8 },
  { n: 4161, rows: 16, temperature: 1, topK: 7, topP: 1 },
  { n: 4161, rows: 16, temperature: 1, topK: 0, topP: 0.9 },
  { n: 4161, rows: 16, temperature: 0.7, topK: 600, topP: 0.95 },
  { n: 4161, rows: 16, temperature: 1, topK: 0, topP: 0.5, flat: true },
  { n: 4161, rows: 16, temperature: 1.5, topK: 3000, topP: 0.7, flat: true },
  { n: 128257, rows: 8, temperature: 0.8, topK: 50, topP: 0.9 },
  { n: 128257, rows: 2, temperature: 1, topK: 0, topP: 0.85 },
];

describe("sample", () => {
  test("field list equals the WGSL struct", () => {
    expect(wgslParamFields(sampleKernel.source)).toEqual(sampleKernel.params.fields);
  });

  // Workgroup size 4 is the CPU-adapter default, 256 the GPU one; the latter is slow here, so fewer rows.
  for (const workgroupSize of [4, 256]) {
    for (const c of cases) {
      const rows = workgroupSize === 256 ? Math.min(c.rows, 4) : c.rows;
      const label = `sample(n=${c.n}, rows=${rows}, temperature=${c.temperature}, topK=${c.topK}, topP~${c.topP}${c.flat ? ", flat" : ""}, wg=${workgroupSize})`;
      test(label, async () => {
        const seed = freshSeed();
        const random = rng(seed);
        const temperature = Math.fround(c.temperature);
        let logits = makeLogits(c.n, random, rows, c.flat ?? false);
        let [topP, margin] = c.topP < 1 ? midwayTopP(logits, c.n, { ...c, temperature }, c.topP) : [1, 1];
        for (let retry = 0; margin < NEAR && retry < 10; retry++) {
          logits = makeLogits(c.n, random, rows, c.flat ?? false);
          [topP, margin] = midwayTopP(logits, c.n, { ...c, temperature }, c.topP);
        }
        expect(margin, `${label} (seed ${seed}): no logits without a top-p near-tie`).toBeGreaterThanOrEqual(NEAR);
        const settings = { temperature, topK: c.topK, topP };
        const probs = samplingDistribution(logits, c.n, settings);
        let compared = 0;
        for (const step of [0, 1 + Math.floor(random() * 1e6)]) {
          const s = { ...settings, seed: Math.floor(random() * 2 ** 32), step };
          const got = await draw(logits, c.n, rows, s, workgroupSize);
          for (let r = 0; r < rows; r++) {
            const u = drawUniform(s.seed, step, r);
            if (pickMargin(probs, u) < NEAR) continue;
            compared++;
            expect(got[r], `${label} (seed ${seed}) seed=${s.seed} step=${step} row=${r}`).toBe(pickToken(probs, u));
          }
        }
        expect(compared, `${label} (seed ${seed}): too many near-ties`).toBeGreaterThanOrEqual(rows);
      });
    }
  }

  test("sample(n=10) over 2000 draws follows the top-k/top-p distribution", async () => {
    const seed = freshSeed();
    const logits = Float32Array.of(2, 0.5, 1.6, -1, 1.2, 3, 0.9, 1.4, -3, 2.4);
    const rows = 2000;
    // At temperature 0.9 top-k 7 keeps masses .407 .209 .134 .086 .069 .055 .039 (sums .905, .960, 1);
    // top-p 0.95 then drops the last, leaving 6 tokens with renormalised mass >= 0.057 each.
    const settings = { temperature: Math.fround(0.9), topK: 7, topP: Math.fround(0.95) };
    const probs = samplingDistribution(logits, 10, settings);
    expect(probs.filter((q) => q > 0).length).toBe(6);
    const all = new Float32Array(rows * 10);
    for (let r = 0; r < rows; r++) all.set(logits, r * 10);
    const got = await draw(all, 10, rows, { ...settings, seed, step: 7 });
    const counts = new Array<number>(10).fill(0);
    for (const t of got) counts[t]++;
    let chi2 = 0;
    for (let i = 0; i < 10; i++) {
      if (probs[i] === 0) expect(counts[i], `token ${i} is filtered out (seed ${seed})`).toBe(0);
      else chi2 += (counts[i] - rows * probs[i]) ** 2 / (rows * probs[i]);
    }
    // 5 degrees of freedom: P(chi2 > 30) ~ 1.5e-5; a wrong filter or renormalisation gives hundreds.
    expect(chi2, `chi-square of counts ${counts} (seed ${seed})`).toBeLessThan(30);
  });

  test("sample is a function of (logits, settings, seed, step)", async () => {
    const ctx = await testContext();
    const seed = freshSeed();
    const n = 64;
    const logits = randomF32(n, rng(seed), 0.5);
    const settings = { temperature: 1, topK: 0, topP: 1 };
    const run = async (s: number) => {
      const out = guardedOutput(ctx, 1);
      const k = await sample(ctx, {
        ...settings,
        seed: s,
        step: 0,
        logits: uploadBuffer(ctx.device, logits),
        out: out.binding,
        n,
      });
      const tokens: number[] = [];
      for (let step = 0; step < 12; step++) {
        k.update({ step });
        await runDispatches(ctx, k.dispatches);
        tokens.push((await readGuarded(ctx, out))[0]);
      }
      return tokens;
    };
    const first = await run(seed);
    expect(await run(seed)).toEqual(first);
    expect(await run((seed + 1) >>> 0)).not.toEqual(first);
    const probs = samplingDistribution(logits, n, settings);
    first.forEach((t, step) => {
      if (pickMargin(probs, drawUniform(seed, step)) >= NEAR) expect(t).toBe(pickToken(probs, drawUniform(seed, step)));
    });
  });

  test("sample(n=128257) with temperature 0 or topK 1 is the argmax, and update switches to it", async () => {
    const ctx = await testContext();
    const seed = freshSeed();
    const n = 128257;
    const logits = randomF32(n, rng(seed), 10);
    logits[n - 1] = logits[argmaxRef(logits)]; // a tie: the lower index must win
    const want = argmaxRef(logits);
    expect(await draw(logits, n, 1, { temperature: 0, topK: 0, topP: 1, seed, step: 3 })).toEqual([want]);
    expect(await draw(logits, n, 1, { temperature: 1, topK: 1, topP: 0.5, seed, step: 3 })).toEqual([want]);
    const small = Float32Array.of(0, 0, 5, 5, 1);
    const out = guardedOutput(ctx, 1);
    const k = await sample(ctx, {
      temperature: 1,
      topK: 0,
      topP: 1,
      seed,
      step: 0,
      logits: uploadBuffer(ctx.device, small),
      out: out.binding,
      n: 5,
    });
    k.update(samplerParams({ temperature: 0 }));
    await runDispatches(ctx, k.dispatches);
    expect(Array.from(await readGuarded(ctx, out))).toEqual([2]);
  });

  test("sample rejects bad arguments, naming them", async () => {
    const ctx = await testContext();
    const logits = uploadBuffer(ctx.device, new Float32Array(64));
    const out = uploadBuffer(ctx.device, new Uint32Array(4));
    const ok = { logits, out, n: 64, temperature: 1, topK: 0, topP: 1, seed: 1, step: 0 };
    expect(() => sample(ctx, { ...ok, topP: 0 })).toThrow(/topP=0 must be in \(0, 1\]/);
    expect(() => sample(ctx, { ...ok, topP: 1.5 })).toThrow(/topP=1.5/);
    expect(() => sample(ctx, { ...ok, topP: NaN })).toThrow(/topP=NaN/);
    expect(() => sample(ctx, { ...ok, topK: -1 })).toThrow(/topK=-1/);
    expect(() => sample(ctx, { ...ok, topK: 2.5 })).toThrow(/topK=2.5/);
    expect(() => sample(ctx, { ...ok, temperature: -0.5 })).toThrow(/temperature=-0.5/);
    expect(() => sample(ctx, { ...ok, temperature: Infinity })).toThrow(/temperature=Infinity/);
    expect(() => sample(ctx, { ...ok, seed: 2 ** 32 })).toThrow(/seed=4294967296/);
    expect(() => sample(ctx, { ...ok, step: -1 })).toThrow(/step=-1/);
    expect(() => sample(ctx, { ...ok, n: 0 })).toThrow(/n=0/);
    expect(() => sample(ctx, { ...ok, n: 65 })).toThrow(/logits holds 256 bytes, needs 65/);
    expect(() => sample(ctx, { ...ok, n: 8, rows: 5 })).toThrow(/out holds 16 bytes, needs 5/);
    expect(() => sample(ctx, { ...ok, out: logits })).toThrow(/out overlaps logits/);
    expect(() => samplerParams({ step: 0.5 })).toThrow(/step=0.5/);
    expect(() => sample(ctx, { ...ok, workgroupSize: 512 })).toThrow(/workgroupSize=512/);
  });
});

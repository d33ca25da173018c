// ffn-plan against the CPU policy (src/reference/ffn-skip.ts): random similarities and ages per layer, a gate table
// of random grids, and the written grids, choices and ages compared for warm-up, caps, re-checks and ties.
import { describe, expect, test } from "vitest";
import { ffnPlan, FFN_STATE_BYTES, UNMEASURED } from "./ffn-plan.ts";
import { runDispatches } from "./dispatch.ts";
import { readBuffer, uploadBuffer } from "../gpu/readback.ts";
import { ReferenceFfnSkip } from "../reference/ffn-skip.ts";
import { DEFAULT_FFN_SKIP, ffnSkipRange, type FfnSkipSettings } from "../engine/settings.ts";
import { freshSeed, POISON, rng, testContext } from "./testing.ts";

interface Case {
  name: string;
  nLayers: number;
  settings: Partial<FfnSkipSettings>;
  pos: number;
  warmupUntil: number;
  /** Similarities drawn from a few values, so that ties happen. */
  tied?: boolean;
}

const cases: Case[] = [
  {
    name: "1 layer, nothing protected",
    nLayers: 1,
    settings: { protectFirst: 0, protectLast: 0 },
    pos: 5,
    warmupUntil: 0,
  },
  { name: "5 layers, cap 1", nLayers: 5, settings: { maxSkipFraction: 0.34, threshold: 0.5 }, pos: 9, warmupUntil: 3 },
  { name: "warm-up", nLayers: 6, settings: { threshold: -1, maxSkipFraction: 1 }, pos: 2, warmupUntil: 3 },
  {
    name: "33 layers, cap 0.3, re-check 3",
    nLayers: 33,
    settings: { maxSkipFraction: 0.3, recheckEvery: 3, threshold: 0.3 },
    pos: 40,
    warmupUntil: 8,
  },
  {
    name: "12 layers, ties, no re-check",
    nLayers: 12,
    settings: { maxSkipFraction: 1, recheckEvery: 0, threshold: 0.5 },
    pos: 7,
    warmupUntil: 7,
    tied: true,
  },
];

describe("ffn-plan", () => {
  for (const c of cases) {
    test(`ffn-plan(${c.name})`, async () => {
      const ctx = await testContext();
      const seed = freshSeed();
      const random = rng(seed);
      const s: FfnSkipSettings = { ...DEFAULT_FFN_SKIP, enabled: true, ...c.settings };
      const { first, end, cap } = ffnSkipRange(c.nLayers, s);
      // Layer state: similarities exact in f32 (some unmeasured), ages around the re-check limit.
      const stateWords = new Uint32Array(c.nLayers * 4).fill(POISON);
      const stateF = new Float32Array(stateWords.buffer);
      const policy = new ReferenceFfnSkip(c.nLayers, s, c.warmupUntil);
      for (let l = 0; l < c.nLayers; l++) {
        const sim =
          random() < 0.15
            ? UNMEASURED
            : Math.fround(c.tied ? [0.25, 0.75, 0.9][Math.floor(random() * 3)] : random() * 2 - 1);
        const age = Math.floor(random() * 5);
        stateF[l * 4] = sim;
        stateWords[l * 4 + 1] = age;
        policy.sims[l] = sim === UNMEASURED ? -Infinity : sim;
        policy.ages[l] = age;
      }
      // Gate table: every unprotected layer has 1..3 dispatches with random grids.
      const grids: number[][] = [];
      const offsets: number[] = [];
      for (let l = 0; l < c.nLayers; l++) {
        offsets.push(grids.length);
        const n = l >= first && l < end ? 1 + Math.floor(random() * 3) : 0;
        for (let i = 0; i < n; i++) grids.push([1 + Math.floor(random() * 300), 1 + Math.floor(random() * 3), 1]);
      }
      offsets.push(grids.length);
      const table = Uint32Array.from([...offsets, ...grids.flat()]);
      const up = (data: Uint32Array, label: string) => uploadBuffer(ctx.device, data, label, GPUBufferUsage.COPY_SRC);
      const state = up(stateWords, "state");
      const args = up(new Uint32Array(Math.max(4, grids.length * 3)).fill(POISON), "args");
      const ran = up(new Uint32Array(c.nLayers).fill(POISON), "ran");
      const threshold = Math.fround(s.threshold);
      const k = await ffnPlan(ctx, {
        state,
        table: up(table, "table"),
        args,
        ran,
        nLayers: c.nLayers,
        first,
        end,
        cap,
        recheck: s.recheckEvery,
        threshold,
        pos: c.pos,
        warmupUntil: c.warmupUntil,
      });
      await runDispatches(ctx, k.dispatches);
      const skip = policy.plan(c.pos);
      const gotState = new Uint32Array(await readBuffer(ctx.device, state));
      const gotArgs = new Uint32Array(await readBuffer(ctx.device, args));
      const gotRan = new Uint32Array(await readBuffer(ctx.device, ran));
      const where = `(seed ${seed})`;
      for (let l = 0; l < c.nLayers; l++) {
        expect(gotState[l * 4 + 2], `layer ${l} skip ${where}`).toBe(skip[l] ? 1 : 0);
        expect(gotState[l * 4 + 1], `layer ${l} age ${where}`).toBe(policy.ages[l]);
        expect(gotState[l * 4], `layer ${l} similarity untouched`).toBe(stateWords[l * 4]);
        expect(gotRan[l], `ran[${l}] cleared`).toBe(0);
        for (let i = offsets[l]; i < offsets[l + 1]; i++) {
          const want = skip[l] ? [0, 0, 0] : grids[i];
          expect(Array.from(gotArgs.subarray(i * 3, i * 3 + 3)), `layer ${l} dispatch ${i} ${where}`).toEqual(want);
        }
      }
      expect(skip.filter(Boolean).length).toBeLessThanOrEqual(cap);
      if (c.pos < c.warmupUntil) expect(skip.some(Boolean)).toBe(false);
    });
  }

  test("ffn-plan rejects bad layer ranges, naming them", async () => {
    const ctx = await testContext();
    const b = (words: number) => uploadBuffer(ctx.device, new Uint32Array(words));
    const args = {
      state: b(16),
      table: b(8),
      args: b(8),
      ran: b(4),
      nLayers: 4,
      first: 1,
      end: 3,
      cap: 1,
      recheck: 0,
      threshold: 0.9,
      pos: 0,
      warmupUntil: 0,
    };
    expect(() => ffnPlan(ctx, { ...args, end: 5 })).toThrow(/first=1, end=5/);
    expect(() => ffnPlan(ctx, { ...args, state: b(8) })).toThrow(/state \(nLayers=4 x 16 bytes\) needs 64 bytes/);
    expect(() => ffnPlan(ctx, { ...args, ran: args.state })).toThrow(/must not overlap/);
  });
});

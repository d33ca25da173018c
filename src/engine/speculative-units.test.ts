// The CPU parts of speculative decoding and FFN skipping: prompt lookup, the draft controller's cost model and
// break-even, speculative sampling's exact output distribution (against the reference sampler), and settings checks.
import { describe, expect, test } from "vitest";
import { ngramDraft } from "./ngram-draft.ts";
import { DraftController, breakEvenAcceptance, expectedTokens } from "./speculation-control.ts";
import { acceptSampled, pick, samplingDistribution } from "./speculative-sampling.ts";
import { samplingDistribution as referenceDistribution } from "../reference/ops.ts";
import { ffnSkipRange, resolveSettings, DEFAULT_FFN_SKIP } from "./settings.ts";

describe("prompt lookup", () => {
  test("copies what followed the latest match of the longest tail", () => {
    expect(ngramDraft([5, 6, 7, 8, 1, 6, 7, 9, 2, 6, 7], 3)).toEqual([9, 2, 6]);
    expect(ngramDraft([1, 2, 3, 1, 2], 5)).toEqual([3, 1, 2]);
    expect(ngramDraft([4, 5, 6], 2)).toEqual([]);
    expect(ngramDraft([9], 2)).toEqual([]);
    // Only a 1-gram matches: 3 ... 3.
    expect(ngramDraft([3, 4, 8, 3], 2)).toEqual([4, 8]);
  });
});

describe("draft controller", () => {
  test("expected tokens and break-even acceptance", () => {
    expect(expectedTokens(0, 4)).toBe(1);
    expect(expectedTokens(1, 4)).toBe(5);
    expect(expectedTokens(0.5, 2)).toBeCloseTo(1.75);
    // A round costing two plain steps at k = 2 needs 1 + a + a^2 = 2: a = 0.618.
    expect(breakEvenAcceptance(2, 20, 10)).toBeCloseTo((Math.sqrt(5) - 1) / 2, 6);
    expect(breakEvenAcceptance(2, 5, 10)).toBe(0);
    expect(breakEvenAcceptance(2, 40, 10)).toBe(Infinity);
  });

  test("drafts long when drafts are cheap and accepted, pauses when they are not", () => {
    const cheap = new DraftController({ maxDraft: 6, draftCostPrior: 0.1 });
    expect(cheap.next()).toBe(0);
    cheap.recordPlain(6, 10);
    for (let i = 0; i < 10; i++) {
      const k = cheap.next();
      expect(k).toBeGreaterThan(0);
      cheap.recordRound(k, k, 12 + k);
    }
    expect(cheap.next()).toBe(6);

    const costly = new DraftController({ maxDraft: 4, draftCostPrior: 1 });
    costly.recordPlain(6, 10);
    let paused = 0;
    for (let i = 0; i < 12; i++) {
      const k = costly.next();
      if (k === 0) {
        paused++;
        costly.recordPlain(costly.plainStretch(), 10);
      } else costly.recordRound(k, 0, 15 + 10 * k);
    }
    expect(paused).toBeGreaterThan(4);
    expect(costly.breakEven()).toBe(Infinity);
  });

  test("a fixed draft length when not adaptive", () => {
    const c = new DraftController({ maxDraft: 3, draftCostPrior: 1, adaptive: false });
    c.recordPlain(6, 10);
    c.recordRound(3, 0, 1000);
    expect(c.next()).toBe(3);
  });
});

describe("speculative sampling", () => {
  const logits = Float32Array.from([2, 1.5, 1.5, -1, 0.3, 3, 0.2, 2]);
  const n = logits.length;
  for (const s of [
    { temperature: 0.7, topK: 0, topP: 1 },
    { temperature: 1.3, topK: 4, topP: 1 },
    { temperature: 1, topK: 0, topP: 0.8 },
    { temperature: 0.9, topK: 5, topP: 0.9 },
  ]) {
    test(`distribution equals the reference sampler's (T=${s.temperature}, k=${s.topK}, p=${s.topP})`, () => {
      const got = samplingDistribution(logits, 0, n, s);
      const want = referenceDistribution(logits, n, s);
      const dense = new Float64Array(n);
      got.ids.forEach((id, j) => (dense[id] = got.probs[j]));
      dense.forEach((p, i) => expect(p).toBeCloseTo(want[i], 12));
    });

    test(`accept-or-resample leaves the output distributed as p, for every draft (T=${s.temperature}, k=${s.topK}, p=${s.topP})`, () => {
      const p = referenceDistribution(logits, n, s);
      for (let d = 0; d < n; d++) {
        // Exact output law: P(t) = p(d) [t = d] + (1 - p(d)) * p(t) / (1 - p(d)) [t != d] = p(t).
        const dist = samplingDistribution(logits, 0, n, s);
        const counts = new Float64Array(n);
        const grid = 4000;
        for (let i = 0; i < grid; i++) {
          const u = (i + 0.5) / grid;
          const resampled = pick(dist, u, d);
          counts[resampled] += (1 - p[d]) / grid;
        }
        counts[d] += p[d];
        counts.forEach((c, t) => expect(c, `draft ${d}, token ${t}`).toBeCloseTo(p[t], 2));
      }
    });
  }

  test("a round: accepted drafts, then the verifier's token; reproducible", () => {
    const rows = new Float32Array(3 * n);
    rows.set(logits, 0);
    rows.set(logits, n);
    rows.set(logits, 2 * n);
    const s = { temperature: 0.8, topK: 0, topP: 1, seed: 42 };
    const a = acceptSampled(rows, n, [5, 0], s, 10);
    expect(a).toEqual(acceptSampled(rows, n, [5, 0], s, 10));
    expect(a.tokens).toHaveLength(a.accepted + 1);
    expect(a.tokens.slice(0, a.accepted)).toEqual([5, 0].slice(0, a.accepted));
  });
});

describe("adaptive settings", () => {
  test("defaults, ranges, and errors that name the nested setting", () => {
    const s = resolveSettings({ ffnSkip: { enabled: true }, speculative: { drafter: "ngram" } });
    expect(s.ffnSkip).toEqual({ ...DEFAULT_FFN_SKIP, enabled: true });
    expect(s.speculative.maxDraft).toBeGreaterThan(0);
    expect(() => resolveSettings({ ffnSkip: { maxSkipFraction: 2 } })).toThrow(/ffnSkip.maxSkipFraction=2/);
    expect(() => resolveSettings({ ffnSkip: { warmupTokens: -1 } })).toThrow(/ffnSkip.warmupTokens/);
    expect(() => resolveSettings({ speculative: { maxDraft: 0 } })).toThrow(/speculative.maxDraft=0/);
    expect(() => resolveSettings({ speculative: { drafter: "tree" as "ngram" } })).toThrow(/speculative.drafter/);
    expect(() => resolveSettings({ speculative: { draftSkip: { threshold: -3 } } })).toThrow(
      /speculative.draftSkip.threshold/,
    );
  });

  test("skip range and cap", () => {
    const s = { ...DEFAULT_FFN_SKIP, protectFirst: 1, protectLast: 1 };
    expect(ffnSkipRange(5, { ...s, maxSkipFraction: 0.34 })).toEqual({ first: 1, end: 4, cap: 1 });
    expect(ffnSkipRange(12, { ...s, maxSkipFraction: 0.3 })).toEqual({ first: 1, end: 11, cap: 3 });
    expect(ffnSkipRange(2, { ...s, protectFirst: 3 })).toEqual({ first: 2, end: 2, cap: 0 });
  });
});

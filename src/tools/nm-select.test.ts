// N:M selection against a brute-force search over every choice of N in each group, and the pattern check.
import { describe, expect, test } from "vitest";
import { freshSeed, rng } from "../kernels/testing.ts";
import type { NMPattern } from "../loaders/sparse-nm.ts";
import { hasNMPattern, pruneNM } from "./nm-select.ts";

/** Every way to choose k of 0..m-1. */
function subsets(m: number, k: number): number[][] {
  if (k === 0) return [[]];
  if (m < k) return [];
  return [...subsets(m - 1, k), ...subsets(m - 1, k - 1).map((s) => [...s, m - 1])];
}

/** The kept columns of each group, found by trying every subset of size N for the largest total score. */
function bruteForceKeep(w: Float64Array, cols: number, p: NMPattern, norms?: number[]): Uint8Array {
  const keep = new Uint8Array(w.length);
  for (let g = 0; g < w.length; g += p.m) {
    const score = (j: number) => Math.abs(w[g + j]) * (norms ? norms[(g % cols) + j] : 1);
    let best: number[] = [];
    let bestTotal = -1;
    for (const s of subsets(p.m, p.n)) {
      const total = s.reduce((a, j) => a + score(j), 0);
      if (total > bestTotal) [best, bestTotal] = [s, total];
    }
    for (const j of best) keep[g + j] = 1;
  }
  return keep;
}

// The runnable patterns and two others: the selection itself works for any N < M.
const PATTERNS: NMPattern[] = [
  { n: 2, m: 4 },
  { n: 1, m: 4 },
  { n: 2, m: 8 },
  { n: 4, m: 8 },
  { n: 1, m: 2 },
  { n: 3, m: 16 },
];

describe("pruneNM", () => {
  test.each(PATTERNS)("keeps the highest-scoring weights of each group ($n:$m), magnitude and Wanda", (p) => {
    const seed = freshSeed();
    const random = rng(seed);
    const rows = 7;
    const cols = p.m * 5;
    const original = Float64Array.from({ length: rows * cols }, () => random() * 2 - 1);
    const norms = Array.from({ length: cols }, () => random() * 3);
    for (const n of [undefined, norms]) {
      const w = original.slice();
      const keep = pruneNM(w, rows, cols, p, n);
      expect(Array.from(keep), `seed ${seed}`).toEqual(Array.from(bruteForceKeep(original, cols, p, n)));
      for (let i = 0; i < w.length; i++) {
        expect(w[i], `seed ${seed}, weight ${i}`).toBe(keep[i] ? original[i] : 0);
        expect(Object.is(w[i], -0)).toBe(false);
      }
      expect(hasNMPattern(w, cols, p)).toBe(true);
    }
  });

  test("Wanda with uniform activation norms selects exactly what magnitude does", () => {
    const seed = freshSeed();
    const random = rng(seed);
    const [rows, cols] = [33, 64];
    const original = Float64Array.from({ length: rows * cols }, () => random() - 0.5);
    for (const p of PATTERNS.filter((q) => cols % q.m === 0)) {
      const magnitude = original.slice();
      const wanda = original.slice();
      pruneNM(magnitude, rows, cols, p);
      pruneNM(wanda, rows, cols, p, new Array(cols).fill(2.5));
      expect(Array.from(wanda), `seed ${seed}, ${p.n}:${p.m}`).toEqual(Array.from(magnitude));
    }
  });

  test("a group with ties keeps the lower columns; a group already sparse stays as it is", () => {
    const w = Float64Array.from([1, 1, 1, 1, 0, 0, 0, 5, -3, 0, 3, 0]);
    pruneNM(w, 1, 12, { n: 2, m: 4 });
    expect(Array.from(w)).toEqual([1, 1, 0, 0, 0, 0, 0, 5, -3, 0, 3, 0]);
  });

  test("refuses rows that are not whole groups, naming the shape", () => {
    expect(() => pruneNM(new Float64Array(12), 2, 6, { n: 2, m: 4 })).toThrow(/2 x 6.*4-groups/);
    expect(() => pruneNM(new Float64Array(8), 1, 8, { n: 2, m: 4 }, [1, 2])).toThrow(/2 input norms/);
  });
});

describe("hasNMPattern", () => {
  test("one extra non-zero in one group breaks the pattern", () => {
    const w = new Float64Array(64);
    for (let g = 0; g < 64; g += 4) w[g + (g % 3)] = w[g + 3] = 1;
    expect(hasNMPattern(w, 16, { n: 2, m: 4 })).toBe(true);
    expect(hasNMPattern(w, 16, { n: 1, m: 4 })).toBe(false);
    w[40] = -1e-30; // group 40..43 already has 41 and 43
    expect(hasNMPattern(w, 16, { n: 2, m: 4 })).toBe(false);
  });
});

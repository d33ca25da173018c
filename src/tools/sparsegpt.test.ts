// SparseGPT's parts: Cholesky and the SPD inverse against direct products, the exact N:M pattern after the sweep,
// a lower reconstruction error ||W X - W' X|| than magnitude and Wanda on correlated inputs, plain magnitude when
// H = I, and the Gram matrices gathered from the reference model.
import { describe, expect, test } from "vitest";
import { SkiffError } from "../errors.ts";
import { freshSeed, rng } from "../kernels/testing.ts";
import type { NMPattern } from "../loaders/sparse-nm.ts";
import { syntheticLlamaGguf } from "../loaders/synthetic-model.ts";
import { ReferenceLlama } from "../reference/forward.ts";
import { referenceWeightsFromGguf } from "../reference/gguf-weights.ts";
import { hasNMPattern, pruneNM } from "./nm-select.ts";
import { choleskyLower, inputGrams, inverseCholeskyUpper, inverseSpd, pruneSparseGpt } from "./sparsegpt.ts";
import { inputNorms, LINEAR_ROLES, observeLayerInputs } from "./wanda.ts";

/** a (n x k) times b (k x p), row-major. */
function matmul(a: ArrayLike<number>, b: ArrayLike<number>, n: number, k: number, p: number): Float64Array {
  const out = new Float64Array(n * p);
  for (let i = 0; i < n; i++)
    for (let t = 0; t < k; t++) for (let j = 0; j < p; j++) out[i * p + j] += a[i * k + t] * b[t * p + j];
  return out;
}

function transpose(a: ArrayLike<number>, n: number, p: number): Float64Array {
  const out = new Float64Array(n * p);
  for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) out[j * n + i] = a[i * p + j];
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

function identity(n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) out[i * n + i] = 1;
  return out;
}

/** B B^T + 0.5 I for a random n x n B: symmetric positive definite, not too badly conditioned. */
function randomSpd(n: number, random: () => number): Float64Array {
  const b = Float64Array.from({ length: n * n }, () => random() * 2 - 1);
  const a = matmul(b, transpose(b, n, n), n, n, n);
  for (let i = 0; i < n; i++) a[i * n + i] += 0.5;
  return a;
}

/**
 * `samples` inputs (cols x samples, row-major) driven by 6 shared latent factors plus a little noise, with feature
 * scales spread over 30x and (when asked) some features always zero: what makes SparseGPT's update worth having.
 */
function correlatedInputs(cols: number, samples: number, random: () => number, dead: number[] = []): Float64Array {
  const factors = 6;
  const mix = Float64Array.from({ length: cols * factors }, () => random() * 2 - 1);
  const scale = Float64Array.from({ length: cols }, () => 0.1 + 3 * random());
  const z = Float64Array.from({ length: factors * samples }, () => random() * 2 - 1);
  const x = matmul(mix, z, cols, factors, samples);
  for (let j = 0; j < cols; j++)
    for (let t = 0; t < samples; t++)
      x[j * samples + t] = dead.includes(j) ? 0 : scale[j] * (x[j * samples + t] + 0.1 * (random() * 2 - 1));
  return x;
}

function reconstructionError(w: Float64Array, pruned: Float64Array, x: Float64Array, rows: number, cols: number) {
  const diff = w.map((v, i) => v - pruned[i]);
  const y = matmul(diff, x, rows, cols, x.length / cols);
  return Math.sqrt(y.reduce((a, v) => a + v * v, 0));
}

describe("linear algebra", () => {
  test.each([1, 2, 37])("n = %i: L L^T = H, H H^-1 = I, U^T U = H^-1 with U upper", (n) => {
    const seed = freshSeed();
    const h = randomSpd(n, rng(seed));
    const l = choleskyLower(h, n);
    expect(maxAbsDiff(matmul(l, transpose(l, n, n), n, n, n), h), `seed ${seed}`).toBeLessThan(1e-9);
    const inv = inverseSpd(h, n);
    expect(maxAbsDiff(matmul(h, inv, n, n, n), identity(n)), `seed ${seed}`).toBeLessThan(1e-9);
    expect(maxAbsDiff(matmul(inv, h, n, n, n), identity(n)), `seed ${seed}`).toBeLessThan(1e-9);
    const u = inverseCholeskyUpper(h, n);
    for (let i = 0; i < n; i++) {
      expect(u[i * n + i]).toBeGreaterThan(0);
      for (let j = 0; j < i; j++) expect(u[i * n + j]).toBe(0);
    }
    expect(maxAbsDiff(matmul(transpose(u, n, n), u, n, n, n), inv), `seed ${seed}`).toBeLessThan(1e-9);
  });

  test("a matrix that is not positive definite is refused, naming its size and pivot", () => {
    const a = Float64Array.from([1, 2, 2, 1]);
    expect(() => choleskyLower(a, 2)).toThrow(SkiffError);
    expect(() => choleskyLower(a, 2)).toThrow(/2 x 2 .*pivot 1/);
  });
});

describe("pruneSparseGpt", () => {
  const PATTERNS: NMPattern[] = [
    { n: 2, m: 4 },
    { n: 1, m: 4 },
    { n: 2, m: 8 },
    { n: 4, m: 8 },
  ];

  test.each(PATTERNS)("$n:$m exactly, keep mask matches the zeros, dead inputs dropped", (pattern) => {
    const seed = freshSeed();
    const random = rng(seed);
    const [rows, cols, samples] = [33, 40, 96];
    const dead = [3, 17, 18];
    const x = correlatedInputs(cols, samples, random, dead);
    const w = Float64Array.from({ length: rows * cols }, () => random() * 2 - 1);
    const keep = pruneSparseGpt(w, rows, cols, pattern, matmul(x, transpose(x, cols, samples), cols, samples, cols));
    expect(hasNMPattern(w, cols, pattern), `seed ${seed}`).toBe(true);
    for (let g = 0; g < w.length; g += pattern.m) {
      let kept = 0;
      for (let j = 0; j < pattern.m; j++) kept += keep[g + j];
      expect(kept, `seed ${seed} group ${g}`).toBe(pattern.n);
    }
    for (let i = 0; i < w.length; i++) {
      if (!keep[i]) expect(Object.is(w[i], 0), `seed ${seed} weight ${i} is +0`).toBe(true);
      if (dead.includes(i % cols)) expect(w[i], `seed ${seed} dead column ${i % cols}`).toBe(0);
    }
  });

  test.each(PATTERNS)("$n:$m: reconstruction error below magnitude's and Wanda's", (pattern) => {
    const seed = freshSeed();
    const random = rng(seed);
    const [rows, cols, samples] = [24, 64, 256];
    const x = correlatedInputs(cols, samples, random);
    const h = matmul(x, transpose(x, cols, samples), cols, samples, cols);
    const w = Float64Array.from({ length: rows * cols }, () => random() * 2 - 1);
    const norms = Float64Array.from({ length: cols }, (_, j) => Math.sqrt(h[j * cols + j]));
    const magnitude = w.slice();
    pruneNM(magnitude, rows, cols, pattern);
    const wanda = w.slice();
    pruneNM(wanda, rows, cols, pattern, norms);
    const sparseGpt = w.slice();
    pruneSparseGpt(sparseGpt, rows, cols, pattern, h);
    const [em, ew, es] = [magnitude, wanda, sparseGpt].map((p) => reconstructionError(w, p, x, rows, cols));
    expect(es, `seed ${seed}: sparsegpt ${es}, wanda ${ew}, magnitude ${em}`).toBeLessThan(ew);
    expect(es, `seed ${seed}: sparsegpt ${es}, wanda ${ew}, magnitude ${em}`).toBeLessThan(em);
  });

  test("H = I: magnitude's pick and no update", () => {
    const seed = freshSeed();
    const random = rng(seed);
    const [rows, cols] = [17, 24];
    const w = Float64Array.from({ length: rows * cols }, () => random() * 2 - 1);
    for (const pattern of PATTERNS) {
      const want = w.slice();
      const wantKeep = pruneNM(want, rows, cols, pattern);
      const got = w.slice();
      const keep = pruneSparseGpt(got, rows, cols, pattern, identity(cols));
      expect(keep, `seed ${seed} ${pattern.n}:${pattern.m}`).toEqual(wantKeep);
      expect(got, `seed ${seed} ${pattern.n}:${pattern.m}`).toEqual(want);
    }
  });

  test("shapes that do not fit are refused, naming them", () => {
    const w = new Float64Array(4 * 8);
    expect(() => pruneSparseGpt(w, 4, 8, { n: 2, m: 4 }, identity(7))).toThrow(/4 x 8 .*49 entries .*8 x 8/);
    expect(() => pruneSparseGpt(new Float64Array(4 * 6), 4, 6, { n: 2, m: 4 }, identity(6))).toThrow(/4 x 6/);
  });
});

describe("inputGrams", () => {
  test("H = sum x x^T: symmetric, diagonal = Wanda's squared norms, one matrix per distinct input", () => {
    const bytes = syntheticLlamaGguf({
      dim: 32,
      hiddenDim: 48,
      nLayers: 2,
      nHeads: 4,
      nKvHeads: 2,
      vocabSize: 300,
      seqLen: 16,
      type: "f32",
      seed: freshSeed(),
    });
    const { config, weights } = referenceWeightsFromGguf(bytes);
    const model = new ReferenceLlama(config, weights, 8);
    const ids = [
      [1, 5, 9, 40],
      [1, 99, 2],
    ];
    const grams = inputGrams(model, 1, ids, LINEAR_ROLES);
    const norms = inputNorms(model, 1, ids);
    expect(grams.wk).toBe(grams.wq);
    expect(grams.wv).toBe(grams.wq);
    expect(grams.wUp).toBe(grams.wGate);
    expect(new Set(Object.values(grams)).size).toBe(4);
    for (const role of LINEAR_ROLES) {
      const g = grams[role]!;
      const n = norms[role].length;
      expect(g.length, role).toBe(n * n);
      for (let i = 0; i < n; i++) {
        expect(g[i * n + i], `${role} ${i}`).toBeCloseTo(norms[role][i] ** 2, 9);
        for (let j = 0; j < i; j++) expect(g[i * n + j]).toBe(g[j * n + i]);
      }
    }
    // Every entry against the inputs themselves, collected through the same loop.
    const inputs: Partial<Record<string, Float64Array[]>> = {};
    observeLayerInputs(model, 1, ids, (role, x) => (inputs[role] ??= []).push(x.slice()));
    for (const role of ["wq", "wo", "wGate", "wDown"] as const) {
      const n = norms[role].length;
      const want = new Float64Array(n * n);
      for (const x of inputs[role]!)
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) want[i * n + j] += x[i] * x[j];
      expect(maxAbsDiff(grams[role]!, want), role).toBeLessThan(1e-9 * Math.max(...want.map(Math.abs)));
    }
    // Only what is asked for.
    const ffn = inputGrams(model, 0, ids, ["wGate", "wUp", "wDown"]);
    expect(Object.keys(ffn).sort()).toEqual(["wDown", "wGate", "wUp"]);
  });
});

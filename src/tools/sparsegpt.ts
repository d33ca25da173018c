// SparseGPT for N:M (Frantar & Alistarh, arXiv 2301.00774; github.com/IST-DASLab/sparsegpt): the Gram matrix
// H = sum x x^T of each linear layer's calibration inputs, and the column sweep that prunes a weight matrix to N:M
// while updating the weights it keeps to make up for the ones it drops (optimal brain surgeon, one column at a
// time). The small dense float64 linear algebra it needs (Cholesky, triangular inverse) is here too.
import { SkiffError } from "../errors.ts";
import type { NMPattern } from "../loaders/sparse-nm.ts";
import type { ReferenceLlama } from "../reference/forward.ts";
import { pruneNM } from "./nm-select.ts";
import { observeLayerInputs, type LinearRole } from "./wanda.ts";

/** Dampening added to H's diagonal, as a share of its mean diagonal (the reference's percdamp). */
export const SPARSEGPT_DAMPING = 0.01;

/** The role whose input each linear layer reads: q, k and v read one vector, and so do gate and up. */
const INPUT_OF: Record<LinearRole, LinearRole> = {
  wq: "wq",
  wk: "wq",
  wv: "wq",
  wo: "wo",
  wGate: "wGate",
  wUp: "wGate",
  wDown: "wDown",
};

/**
 * H = sum over every position of `ids` of x x^T (cols x cols, row-major, float64) for the input x of each linear
 * layer of `layer` among `roles`, gathered like Wanda's norms (observeLayerInputs). Layers that share an input share
 * one matrix (the same array): callers copy before changing it.
 */
export function inputGrams(
  model: ReferenceLlama,
  layer: number,
  ids: number[][],
  roles: readonly LinearRole[],
): Partial<Record<LinearRole, Float64Array>> {
  const { dim, hiddenDim } = model.config;
  const grams: Partial<Record<LinearRole, Float64Array>> = {};
  for (const role of roles) {
    const n = role === "wDown" ? hiddenDim : dim;
    grams[role] = grams[INPUT_OF[role]] ??= new Float64Array(n * n);
  }
  observeLayerInputs(model, layer, ids, (role, x) => {
    const g = INPUT_OF[role] === role ? grams[role] : undefined;
    if (!g) return;
    // The upper triangle only; mirrored below.
    const n = x.length;
    for (let i = 0; i < n; i++) {
      const xi = x[i];
      if (xi === 0) continue;
      for (let j = i; j < n; j++) g[i * n + j] += xi * x[j];
    }
  });
  for (const role of new Set(roles.map((r) => INPUT_OF[r]))) {
    const g = grams[role]!;
    const n = Math.sqrt(g.length);
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) g[i * n + j] = g[j * n + i];
  }
  return grams;
}

/** L (lower, row-major) with a = L L^T, for a symmetric positive definite n x n `a`. */
export function choleskyLower(a: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j];
    for (let k = 0; k < j; k++) d -= l[j * n + k] * l[j * n + k];
    if (!(d > 0)) {
      throw new SkiffError(
        "bad-argument",
        `cholesky: the ${n} x ${n} matrix is not positive definite (pivot ${j} is ${d})`,
      );
    }
    const ljj = Math.sqrt(d);
    l[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = s / ljj;
    }
  }
  return l;
}

/** L^-1 (lower) of a lower-triangular L with a non-zero diagonal, by forward substitution column by column. */
export function invertLower(l: Float64Array, n: number): Float64Array {
  const inv = new Float64Array(n * n);
  for (let c = 0; c < n; c++) {
    inv[c * n + c] = 1 / l[c * n + c];
    for (let i = c + 1; i < n; i++) {
      let s = 0;
      for (let k = c; k < i; k++) s += l[i * n + k] * inv[k * n + c];
      inv[i * n + c] = -s / l[i * n + i];
    }
  }
  return inv;
}

/** a^-1 of a symmetric positive definite `a`: (L L^T)^-1 = L^-T L^-1 (torch.cholesky_inverse). */
export function inverseSpd(a: Float64Array, n: number): Float64Array {
  const li = invertLower(choleskyLower(a, n), n);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      // Rows k of L^-1 below max(i, j) are the only ones non-zero in both columns.
      let s = 0;
      for (let k = i; k < n; k++) s += li[k * n + i] * li[k * n + j];
      inv[i * n + j] = s;
      inv[j * n + i] = s;
    }
  }
  return inv;
}

/** U (upper, row-major) with a^-1 = U^T U: the reference's cholesky(cholesky_inverse(cholesky(H)), upper=True). */
export function inverseCholeskyUpper(a: Float64Array, n: number): Float64Array {
  const l = choleskyLower(inverseSpd(a, n), n);
  const u = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) u[i * n + j] = l[j * n + i];
  return u;
}

/**
 * Prunes `w` (rows x cols, row-major, a row = one output feature's weights over the inputs) to `pattern` in place
 * by SparseGPT with the inputs' Gram matrix `gram` (cols x cols; not changed). Columns whose inputs were always
 * zero (H_jj = 0) are zeroed first and get H_jj = 1; then H += damping * mean(diag H) * I and U = the upper
 * Cholesky factor of H^-1. Columns are swept left to right: at the first column of each group of M, every row keeps
 * the N columns of the group with the largest w^2 / U_jj^2 (ties to the lower column, pruneNM's rule); each
 * column j then becomes q = kept ? w : 0 and the row's later columns k absorb its error: w_k -= (w_j - q) / U_jj *
 * U_jk. Rows are independent, so this sweeps one row at a time, which is the reference's blocked sweep (its lazy
 * batches only reorder the same updates). Returns the keep mask (1 = kept); dropped weights are +0.
 */
export function pruneSparseGpt(
  w: Float64Array,
  rows: number,
  cols: number,
  pattern: NMPattern,
  gram: ArrayLike<number>,
  damping = SPARSEGPT_DAMPING,
): Uint8Array {
  const { m } = pattern;
  if (w.length !== rows * cols || cols % m !== 0 || gram.length !== cols * cols) {
    throw new SkiffError(
      "bad-shape",
      `pruneSparseGpt: ${w.length} weights as ${rows} x ${cols} with a Gram matrix of ${gram.length} entries ` +
        `(want ${cols} x ${cols}) do not make rows of whole ${m}-groups`,
    );
  }
  const h = Float64Array.from(gram);
  let diagSum = 0;
  for (let j = 0; j < cols; j++) {
    if (h[j * cols + j] === 0) {
      h[j * cols + j] = 1;
      for (let r = 0; r < rows; r++) w[r * cols + j] = 0;
    }
    diagSum += h[j * cols + j];
  }
  const damp = (damping * diagSum) / cols;
  for (let j = 0; j < cols; j++) h[j * cols + j] += damp;
  const u = inverseCholeskyUpper(h, cols);
  // w^2 / U_jj^2 ranks as |w| / U_jj: pruneNM's |w| * norm with norm = 1 / U_jj.
  const invDiag = Float64Array.from({ length: cols }, (_, j) => 1 / u[j * cols + j]);
  const keep = new Uint8Array(w.length);
  const group = new Float64Array(m);
  for (let r = 0; r < rows; r++) {
    const row = w.subarray(r * cols, (r + 1) * cols);
    for (let g = 0; g < cols; g += m) {
      group.set(row.subarray(g, g + m));
      keep.set(pruneNM(group, 1, m, pattern, invDiag.subarray(g, g + m)), r * cols + g);
      for (let j = g; j < g + m; j++) {
        if (keep[r * cols + j]) continue;
        const err = row[j] / u[j * cols + j];
        row[j] = 0;
        if (err === 0) continue;
        for (let k = j + 1; k < cols; k++) row[k] -= err * u[j * cols + k];
      }
    }
  }
  return keep;
}

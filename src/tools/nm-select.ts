// N:M selection along a weight matrix's input dimension: in every group of M consecutive weights of a row, the N
// with the highest score survive and the rest become exact zeros; and the check that a matrix has a given pattern.
// Scores are |w| (magnitude) or |w| * ||X_col|| (Wanda), compared within a row. Patterns are sparse-nm.ts's.
import { SkiffError } from "../errors.ts";
import type { NMPattern } from "../loaders/sparse-nm.ts";

/**
 * Prunes `w` (rows x cols, row-major, a row = one output feature's weights over the inputs) in place: in each
 * group of M consecutive columns keeps the N largest scores, score = |w| * inputNorms[col] (inputNorms absent:
 * plain magnitude), ties to the lower column, and writes +0 over the rest. Returns the keep mask (1 = kept).
 */
export function pruneNM(
  w: Float64Array,
  rows: number,
  cols: number,
  pattern: NMPattern,
  inputNorms?: ArrayLike<number>,
): Uint8Array {
  const { n, m } = pattern;
  if (w.length !== rows * cols || cols % m !== 0 || (inputNorms && inputNorms.length !== cols)) {
    throw new SkiffError(
      "bad-shape",
      `pruneNM: ${w.length} weights as ${rows} x ${cols}${inputNorms ? ` with ${inputNorms.length} input norms` : ""} ` +
        `do not make rows of whole ${m}-groups`,
    );
  }
  const keep = new Uint8Array(w.length);
  const score = new Float64Array(m);
  for (let g = 0; g < w.length; g += m) {
    const col = g % cols;
    for (let j = 0; j < m; j++) score[j] = Math.abs(w[g + j]) * (inputNorms ? inputNorms[col + j] : 1);
    // N rounds of "best remaining": M is at most 32, so this beats sorting and keeps ties in column order.
    for (let k = 0; k < n; k++) {
      let best = -1;
      for (let j = 0; j < m; j++) if (!keep[g + j] && (best < 0 || score[j] > score[best])) best = j;
      keep[g + best] = 1;
    }
    for (let j = 0; j < m; j++) if (!keep[g + j]) w[g + j] = 0;
  }
  return keep;
}

/** Whether every group of M consecutive weights along each row has at most N non-zeros. */
export function hasNMPattern(w: ArrayLike<number>, cols: number, pattern: NMPattern): boolean {
  if (cols % pattern.m !== 0 || w.length % cols !== 0) return false;
  for (let g = 0; g < w.length; g += pattern.m) {
    let nonZero = 0;
    for (let j = 0; j < pattern.m; j++) if (w[g + j] !== 0) nonZero++;
    if (nonZero > pattern.n) return false;
  }
  return true;
}

export function countZeros(w: ArrayLike<number>): number {
  let zeros = 0;
  for (let i = 0; i < w.length; i++) if (w[i] === 0) zeros++;
  return zeros;
}

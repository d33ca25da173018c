// Float64 reference for the weight kernels: matmul (GEMV when m = 1) and the embedding gather. W is given
// dequantized, rows x cols row-major, as the weight kernels' tests get it from src/loaders/ggml-quants.ts.

/** out (m, rows) = x (m, cols) . W^T, W (rows, cols): out[i, r] = sum_k x[i, k] * W[r, k]. */
export function matmul(
  out: Float64Array,
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  m: number,
  rows: number,
  cols: number,
): Float64Array {
  for (let i = 0; i < m; i++) {
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (let k = 0; k < cols; k++) sum += x[i * cols + k] * w[r * cols + k];
      out[i * rows + r] = sum;
    }
  }
  return out;
}

/** max over outputs of sum_k |x[i, k] * W[r, k]|: the size of the terms each matmul output sums. */
export function matmulTermScale(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  m: number,
  rows: number,
  cols: number,
): number {
  let scale = 0;
  for (let i = 0; i < m; i++) {
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (let k = 0; k < cols; k++) sum += Math.abs(x[i * cols + k] * w[r * cols + k]);
      scale = Math.max(scale, sum);
    }
  }
  return scale;
}

/**
 * matmulTermScale for a kernel that reads each x through an interpolation within its group of `group` columns (the
 * rowwise sparse GEMV, shaders/sparse-access.wgsl): its rounding follows the largest |x| of the group a weight sits
 * in, not the x it meets, so the bound is max over outputs of sum_k |w_k| * max |x| over k's group.
 */
export function groupTermScale(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  m: number,
  rows: number,
  cols: number,
  group: number,
): number {
  const groupMax = new Float64Array(m * cols);
  for (let i = 0; i < m * cols; i += group) {
    let most = 0;
    for (let j = i; j < Math.min(i + group, m * cols); j++) most = Math.max(most, Math.abs(x[j]));
    groupMax.fill(most, i, Math.min(i + group, m * cols));
  }
  return matmulTermScale(groupMax, w, m, rows, cols);
}

/** out (count, cols) = table rows tokens[i]; an id outside the table (rows) gives a row of zeros. */
export function embedding(
  out: Float64Array,
  table: ArrayLike<number>,
  tokens: ArrayLike<number>,
  count: number,
  rows: number,
  cols: number,
): Float64Array {
  for (let i = 0; i < count; i++) {
    const id = tokens[i];
    for (let k = 0; k < cols; k++) out[i * cols + k] = id >= 0 && id < rows ? table[id * cols + k] : 0;
  }
  return out;
}

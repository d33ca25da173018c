// Float64 CPU reference for every op: the oracle of the kernel tests. Plain loops, llama2.c style,
// output first. Nothing on the runtime path imports this folder.

/** out (rows, dim) = x / sqrt(mean(x^2) + eps) * weight. */
export function rmsNorm(
  out: Float64Array,
  x: ArrayLike<number>,
  weight: ArrayLike<number>,
  rows: number,
  dim: number,
  eps: number,
): Float64Array {
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let i = 0; i < dim; i++) ss += x[r * dim + i] * x[r * dim + i];
    const scale = 1 / Math.sqrt(ss / dim + eps);
    for (let i = 0; i < dim; i++) out[r * dim + i] = x[r * dim + i] * scale * weight[i];
  }
  return out;
}

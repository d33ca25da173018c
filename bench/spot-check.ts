// Checks a few outputs of every contender against a float64 dot product, so a kernel that silently did not run (an
// invalid command buffer leaves zeros) or a mis-bound input can never post a fast time.
import { readF32 } from "../src/gpu/readback.ts";
import { compare } from "../src/kernels/testing.ts";

/** Output (row, col) in float64 and the sum of |products|, the scale its rounding error is measured against. */
export type Reference = (row: number, col: number) => { value: number; scale: number };

/** Relative to the sum of |products|: f32 accumulation over a few thousand terms stays far below this. */
const TOLERANCE = 1e-3;

function spots(m: number, n: number): [number, number][] {
  return [
    [0, 0],
    [m - 1, n - 1],
    [m >> 1, Math.min(n - 1, 7)],
    [0, n >> 1],
  ];
}

/** Throws naming the first (row, col) whose value is off; `got` is the (m, n) output, row-major. */
export function spotCheck(got: Float32Array, m: number, n: number, ref: Reference): void {
  for (const [row, col] of spots(m, n)) {
    const g = got[row * n + col];
    const { value, scale } = ref(row, col);
    if (!(Math.abs(g - value) <= TOLERANCE * scale + 1e-6)) {
      throw new Error(
        `wrong output at (${row}, ${col}): got ${g}, want ${value.toPrecision(6)} (scale ${scale.toPrecision(3)})`,
      );
    }
  }
}

export async function spotCheckBuffer(device: GPUDevice, out: GPUBuffer, m: number, n: number, ref: Reference) {
  spotCheck(await readF32(device, out, 0, m * n), m, n, ref);
}

/** Σ_j x[j] · w(j) over a row of x, with the matching scale. */
export function dotReference(x: ArrayLike<number>, xOffset: number, k: number, w: (j: number) => number) {
  let value = 0;
  let scale = 0;
  for (let j = 0; j < k; j++) {
    const p = x[xOffset + j] * w(j);
    value += p;
    scale += Math.abs(p);
  }
  return { value, scale };
}

/** Fills an output with NaN before a contender runs, so one that writes nothing cannot pass on another's result. */
export function poison(device: GPUDevice, buffer: GPUBuffer, count: number): void {
  device.queue.writeBuffer(buffer, 0, new Float32Array(count).fill(NaN));
}

/** Whole-output check against a float64 reference, by error normalised to the output's largest value. */
export async function checkBuffer(device: GPUDevice, out: GPUBuffer, want: ArrayLike<number>, tolerance: number) {
  const c = compare(await readF32(device, out, 0, want.length), want);
  if (!(c.normalisedError <= tolerance)) {
    throw new Error(
      `wrong output: normalised error ${c.normalisedError.toExponential(2)} > ${tolerance} at ${c.worstIndex}`,
    );
  }
}

// Philox2x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3"): the counter-based generator
// the GPU sampler and its CPU reference share, so both draw the same uniform from (seed, step, row).
// shaders/sample.wgsl holds the WGSL twin of these functions; keep the two in step.

const PHILOX_M = 0xd256d193;
const PHILOX_W = 0x9e3779b9;

/** The high and low 32 bits of a 32x32-bit product, from 16-bit halves exactly as the WGSL does it. */
export function mulHiLo(a: number, b: number): [hi: number, lo: number] {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = ((a0 * b0) >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  const hi = (a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) >>> 0;
  return [hi, Math.imul(a, b) >>> 0];
}

/** Ten Philox rounds of the 2x32 counter (c0, c1) under a 32-bit key; matches the Random123 known answers. */
export function philox2x32(c0: number, c1: number, key: number): [number, number] {
  let x0 = c0 >>> 0;
  let x1 = c1 >>> 0;
  let k = key >>> 0;
  for (let round = 0; round < 10; round++) {
    const [hi, lo] = mulHiLo(PHILOX_M, x0);
    x0 = (hi ^ k ^ x1) >>> 0;
    x1 = lo;
    k = (k + PHILOX_W) >>> 0;
  }
  return [x0, x1];
}

/** A uniform in [0, 1) with 24 bits, exact in f32 and f64 alike: counter (step, row), key seed. */
export function drawUniform(seed: number, step: number, row = 0): number {
  return (philox2x32(step, row, seed)[0] >>> 8) / 16777216;
}

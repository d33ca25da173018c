// Quantizers for the K-quant formats (Q4_K, Q5_K, Q6_K), so the project can write its own K-quant and mixed
// "Q4_K_M-style" GGUFs for tests and benchmarks. Plain min/max fits, not llama.cpp's iterative search: the files they
// make are valid and close to the floats (the dequantizers in k-quants.ts read them), not bit-equal to llama.cpp's.
// Codes go where kQuantSubBlock says they live, so the layout is written by the same description that reads it.
import { SkiffError } from "../errors.ts";
import { f16ToF32, f32ToF16 } from "./f16.ts";
import { K_QUANT_LAYOUT, kQuantSubBlock, Q6K_SCALES, QK_K, type KQuantType } from "./k-quants.ts";

/** Q4_K / Q5_K: the 12 packed scale bytes follow d and dmin. */
const KS_SCALES = 4;
const SUB = 32;

export function quantizeKQuant(type: KQuantType, x: ArrayLike<number>): Uint8Array {
  if (x.length % QK_K !== 0) {
    throw new SkiffError("bad-shape", `${type}: ${x.length} values are not a whole number of ${QK_K}-element blocks`);
  }
  const { blockBytes } = K_QUANT_LAYOUT[type];
  const out = new Uint8Array((x.length / QK_K) * blockBytes);
  for (let b = 0; b < x.length / QK_K; b++) {
    const block = Array.from({ length: QK_K }, (_, i) => Math.fround(x[b * QK_K + i]));
    if (type === "q6_k") quantizeQ6K(block, out, b * blockBytes);
    else quantizeQ45K(type, block, out, b * blockBytes);
  }
  return out;
}

/** The f16 nearest to v, as the f32 a kernel reads back. */
function asF16(v: number): [bits: number, value: number] {
  const bits = f32ToF16(v);
  return [bits, f16ToF32(bits)];
}

function setF16(out: Uint8Array, at: number, bits: number): void {
  out[at] = bits & 0xff;
  out[at + 1] = bits >> 8;
}

/** Writes code q of element e of sub-block j: low 4 bits, then the high bits where the type keeps them. */
function putCode(type: KQuantType, out: Uint8Array, o: number, j: number, e: number, q: number): void {
  const s = kQuantSubBlock(type, j);
  out[o + s.lo + e] |= (q & 0xf) << s.loShift;
  if (s.hiMask) out[o + s.hi + e] |= ((q >> 4) & s.hiMask) << s.hiShift;
}

/** value = d * scale_j * q - dmin * min_j with 6-bit scale_j, min_j per 32 elements and q in 0..15 (Q4_K) or 0..31. */
function quantizeQ45K(type: "q4_k" | "q5_k", x: number[], out: Uint8Array, o: number): void {
  const levels = type === "q4_k" ? 15 : 31;
  const scales: number[] = [];
  const mins: number[] = [];
  for (let j = 0; j < QK_K / SUB; j++) {
    const sub = x.slice(j * SUB, (j + 1) * SUB);
    // The format's offset is -dmin * min with min >= 0, so the fitted range always reaches down to 0 at least.
    const lo = Math.min(0, ...sub);
    scales.push((Math.max(...sub) - lo) / levels);
    mins.push(-lo);
  }
  const [dBits, d] = asF16(Math.max(...scales) / 63);
  const [mBits, dmin] = asF16(Math.max(...mins) / 63);
  setF16(out, o, dBits);
  setF16(out, o + 2, mBits);
  for (let j = 0; j < QK_K / SUB; j++) {
    const sc = d > 0 ? Math.min(63, Math.round(scales[j] / d)) : 0;
    const m = dmin > 0 ? Math.min(63, Math.round(mins[j] / dmin)) : 0;
    packScaleMin(out, o + KS_SCALES, j, sc, m);
    const step = d * sc;
    const offset = dmin * m;
    for (let e = 0; e < SUB; e++) {
      const q = step > 0 ? Math.max(0, Math.min(levels, Math.round((x[j * SUB + e] + offset) / step))) : 0;
      putCode(type, out, o, j, e, q);
    }
  }
}

/** The inverse of get_scale_min_k4 (k-quants.ts scaleMinK4) for sub-block j. */
function packScaleMin(out: Uint8Array, s: number, j: number, sc: number, m: number): void {
  if (j < 4) {
    out[s + j] |= sc;
    out[s + j + 4] |= m;
  } else {
    out[s + j + 4] = (sc & 0xf) | ((m & 0xf) << 4);
    out[s + j - 4] |= (sc >> 4) << 6;
    out[s + j] |= (m >> 4) << 6;
  }
}

/** value = d * scale_i * (q - 32) with an int8 scale_i per 16 elements and q in 0..63. */
function quantizeQ6K(x: number[], out: Uint8Array, o: number): void {
  const groups: number[] = [];
  for (let i = 0; i < QK_K / 16; i++) groups.push(Math.max(...x.slice(i * 16, (i + 1) * 16).map(Math.abs)) / 31);
  const [dBits, d] = asF16(Math.max(...groups) / 127);
  setF16(out, o + K_QUANT_LAYOUT.q6_k.d, dBits);
  for (let i = 0; i < QK_K / 16; i++) {
    const sc = d > 0 ? Math.min(127, Math.round(groups[i] / d)) : 0;
    out[o + Q6K_SCALES + i] = sc & 0xff;
    const step = d * sc;
    for (let k = 0; k < 16; k++) {
      const idx = i * 16 + k;
      const q = step > 0 ? Math.max(-32, Math.min(31, Math.round(x[idx] / step))) : 0;
      putCode("q6_k", out, o, Math.floor(idx / SUB), idx % SUB, q + 32);
    }
  }
}

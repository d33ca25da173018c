// ggml's K-quant weight formats (Q4_K, Q5_K, Q6_K: super-blocks of 256 elements): byte layouts, code and scale
// readers shared with the repacker, and float64 dequantizers, written from the formats (ggml-common.h block_q*_K,
// ggml-quants.c dequantize_row_q*_K). Values are what ggml's f32 dequantizers return: every product is exact in f32,
// so each value is the exact one rounded once to f32.
import { f16ToF32, f32ToF16 } from "./f16.ts";

/** Elements per super-block. */
export const QK_K = 256;

/** GGUF bytes per super-block and where its f16 super-scales sit (dmin: -1 for Q6_K, which has no mins).
 *  Q4_K: d, dmin, scales[12], qs[128]. Q5_K: d, dmin, scales[12], qh[32], qs[128]. Q6_K: ql[128], qh[64],
 *  scales[16] (int8), d. */
export const K_QUANT_LAYOUT = {
  q4_k: { blockBytes: 144, d: 0, dmin: 2 },
  q5_k: { blockBytes: 176, d: 0, dmin: 2 },
  q6_k: { blockBytes: 210, d: 208, dmin: -1 },
} as const;

export type KQuantType = keyof typeof K_QUANT_LAYOUT;

export function isKQuant(type: string): type is KQuantType {
  return type in K_QUANT_LAYOUT;
}

/** Q4_K / Q5_K: the 12 packed scale bytes follow d and dmin. */
const KS_SCALES = 4;
const Q5K_QH = 16;
const Q4K_QS = 16;
const Q5K_QS = 48;
const Q6K_QH = 128;
/** Q6_K: 16 int8 scales, one per 16 elements. */
export const Q6K_SCALES = 192;

/**
 * Sub-block j's 6-bit scale and min (j = 0..7) from the 12 packed bytes at `q[o..o+11]` (ggml's get_scale_min_k4):
 * bytes 0..3 hold scales 0..3 in their low 6 bits, bytes 4..7 mins 0..3; scales and mins 4..7 take their low 4 bits
 * from the low and high nibbles of bytes 8..11 and their top 2 bits from the top bits of bytes 0..3 and 4..7.
 */
export function scaleMinK4(j: number, q: Uint8Array, o: number): [scale: number, min: number] {
  if (j < 4) return [q[o + j] & 63, q[o + j + 4] & 63];
  return [(q[o + j + 4] & 0xf) | ((q[o + j - 4] >> 6) << 4), (q[o + j + 4] >> 4) | ((q[o + j] >> 6) << 4)];
}

/** Where sub-block j (0..7) of a super-block keeps its codes: element e's low 4 bits are bits loShift..loShift+3
 *  of byte lo + e, its high bits (Q5_K: 1, Q6_K: 2, Q4_K: none) bits hiShift.. of byte hi + e.
 *  Q4_K / Q5_K: 64-element step c = j/2 reads qs[32c .. 32c+31]: low nibbles are sub-block 2c, high nibbles 2c+1;
 *  Q5_K's fifth bit of element e of sub-block j is bit j of qh[e].
 *  Q6_K: half n = j/4 reads ql[64n ..] and qh[32n ..]; quarter k = j%4 takes the low (k < 2) or high nibble of
 *  ql[64n + 32(k%2) + e] and bits 2k, 2k+1 of qh[32n + e]. */
export function kQuantSubBlock(
  type: KQuantType,
  j: number,
): { lo: number; loShift: number; hi: number; hiShift: number; hiMask: number } {
  if (type === "q6_k") {
    const n = j >> 2;
    const k = j & 3;
    return { lo: 64 * n + 32 * (k & 1), loShift: k & 2 ? 4 : 0, hi: Q6K_QH + 32 * n, hiShift: 2 * k, hiMask: 3 };
  }
  const five = type === "q5_k";
  return {
    lo: (five ? Q5K_QS : Q4K_QS) + 32 * (j >> 1),
    loShift: 4 * (j & 1),
    hi: Q5K_QH,
    hiShift: j,
    hiMask: five ? 1 : 0,
  };
}

/** Element e (0..31) of sub-block j of the super-block at byte `o`: its low 4 bits and its high bits (q = lo | hi << 4). */
export function kQuantCode(
  type: KQuantType,
  bytes: Uint8Array,
  o: number,
  j: number,
  e: number,
): [lo: number, hi: number] {
  const s = kQuantSubBlock(type, j);
  return [(bytes[o + s.lo + e] >> s.loShift) & 0xf, (bytes[o + s.hi + e] >> s.hiShift) & s.hiMask];
}

function f16At(bytes: Uint8Array, o: number): number {
  return f16ToF32(bytes[o] | (bytes[o + 1] << 8));
}

/** Q6_K's int8 scale of the 16 elements starting at element 16s of the super-block at byte `o`. */
function q6kScale(bytes: Uint8Array, o: number, s: number): number {
  return (bytes[o + Q6K_SCALES + s] << 24) >> 24;
}

/**
 * Float64 values of `count` elements (a whole number of super-blocks) of K-quant GGUF bytes, into `out`:
 * Q4_K: d * scale_j * q - dmin * min_j; Q5_K: the same with a 5-bit q; Q6_K: d * scales[e / 16] * (q - 32).
 */
export function dequantizeKQuant(type: KQuantType, bytes: Uint8Array, count: number, out: Float64Array): void {
  const layout = K_QUANT_LAYOUT[type];
  for (let i = 0; i < count / QK_K; i++) {
    const o = i * layout.blockBytes;
    const d = f16At(bytes, o + layout.d);
    const dmin = layout.dmin >= 0 ? f16At(bytes, o + layout.dmin) : 0;
    for (let j = 0; j < 8; j++) {
      const [sc, m] = type === "q6_k" ? [0, 0] : scaleMinK4(j, bytes, o + KS_SCALES);
      for (let e = 0; e < 32; e++) {
        const [lo, hi] = kQuantCode(type, bytes, o, j, e);
        const q = lo | (hi << 4);
        out[i * QK_K + j * 32 + e] =
          type === "q6_k"
            ? Math.fround(d * q6kScale(bytes, o, 2 * j + (e >> 4)) * (q - 32))
            : Math.fround(d * sc * q - dmin * m);
      }
    }
  }
}

/**
 * `count` elements (whole super-blocks) of random valid K-quant bytes, for tests and benchmarks (Skiff has no K-quant
 * quantizer): random codes and scales, and f16 d (and dmin) of random sign sized so values stay within about
 * +-`scale`: the largest |scale * q| a super-block can reach is 63 * 15 (Q4_K), 63 * 31 (Q5_K), 128 * 32 (Q6_K).
 */
export function randomKQuantBytes(type: KQuantType, count: number, random: () => number, scale = 1): Uint8Array {
  const layout = K_QUANT_LAYOUT[type];
  const out = new Uint8Array((count / QK_K) * layout.blockBytes);
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(random() * 256);
  const reach = type === "q4_k" ? 63 * 15 : type === "q5_k" ? 63 * 31 : 128 * 32;
  const setHalf = (o: number, value: number) => {
    const h = f32ToF16(value);
    out[o] = h & 0xff;
    out[o + 1] = h >> 8;
  };
  for (let o = 0; o < out.length; o += layout.blockBytes) {
    setHalf(o + layout.d, ((random() * 2 - 1) * scale) / reach);
    if (layout.dmin >= 0) setHalf(o + layout.dmin, ((random() * 2 - 1) * scale) / 63);
  }
  return out;
}

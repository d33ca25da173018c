// ggml's weight types as Skiff runs them: block geometry, GGUF byte sizes, reference quantizers for the legacy
// 32-element formats (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1) and float64 dequantizers for every type, producing and reading
// the exact GGUF tensor bytes. Quantizers port quantize_row_*_ref (ggml-quants.c) with f32 arithmetic
// (Math.fround) as in the C code, so bytes are identical; K-quants (k-quants.ts) have no quantizer here.
import { SkiffError } from "../errors.ts";
import { f16ToF32, f32ToF16 } from "./f16.ts";
import { quantizeKQuant } from "./k-quantize.ts";
import { dequantizeKQuant, isKQuant, K_QUANT_LAYOUT, QK_K } from "./k-quants.ts";

export type WeightType = "f32" | "f16" | "q8_0" | "q4_0" | "q4_1" | "q5_0" | "q5_1" | "q4_k" | "q5_k" | "q6_k";

export const WEIGHT_TYPES: readonly WeightType[] = [
  "f32",
  "f16",
  "q8_0",
  "q4_0",
  "q4_1",
  "q5_0",
  "q5_1",
  "q4_k",
  "q5_k",
  "q6_k",
];

/** The 32-element formats whose codes are 4 low bits plus, for Q5, a fifth bit. */
export type LegacyType = "q4_0" | "q4_1" | "q5_0" | "q5_1";

/** Elements per quantization block of the legacy formats. */
export const QK = 32;
/** GGUF bytes per block: f16 d + 32 int8 codes; f16 d + 16 bytes of nibbles. */
export const Q8_0_BLOCK_BYTES = 34;
export const Q4_0_BLOCK_BYTES = 18;

/** Elements and GGUF bytes per block (1 element for plain floats). */
export const BLOCK_GEOMETRY: Record<WeightType, { elements: number; bytes: number }> = {
  f32: { elements: 1, bytes: 4 },
  f16: { elements: 1, bytes: 2 },
  q8_0: { elements: QK, bytes: Q8_0_BLOCK_BYTES },
  q4_0: { elements: QK, bytes: Q4_0_BLOCK_BYTES },
  q4_1: { elements: QK, bytes: 20 },
  q5_0: { elements: QK, bytes: 22 },
  q5_1: { elements: QK, bytes: 24 },
  q4_k: { elements: QK_K, bytes: K_QUANT_LAYOUT.q4_k.blockBytes },
  q5_k: { elements: QK_K, bytes: K_QUANT_LAYOUT.q5_k.blockBytes },
  q6_k: { elements: QK_K, bytes: K_QUANT_LAYOUT.q6_k.blockBytes },
};

/** Legacy block layouts: d (f16) at 0, then m (f16, the _1 types), qh (u32, Q5), qs (16 bytes of nibbles). */
export const LEGACY_LAYOUT: Record<LegacyType, { m: number; qh: number; qs: number; bits: 4 | 5 }> = {
  q4_0: { m: -1, qh: -1, qs: 2, bits: 4 },
  q4_1: { m: 2, qh: -1, qs: 4, bits: 4 },
  q5_0: { m: -1, qh: 2, qs: 6, bits: 5 },
  q5_1: { m: 2, qh: 4, qs: 8, bits: 5 },
};

const fround = Math.fround;

/** GGUF byte length of `count` elements of `type`; block types need a whole number of blocks. */
export function ggufBytes(type: WeightType, count: number): number {
  checkBlocks(type, count);
  const { elements, bytes } = BLOCK_GEOMETRY[type];
  return (count / elements) * bytes;
}

function checkBlocks(type: WeightType, count: number): void {
  const { elements } = BLOCK_GEOMETRY[type];
  if (count % elements !== 0) {
    throw new SkiffError("bad-shape", `${type}: ${count} elements is not a whole number of ${elements}-element blocks`);
  }
}

/** Element e (0..31) of the legacy block at byte `o`: its low 4 bits (low nibble of qs[e] for e < 16, else the high
 *  nibble of qs[e - 16]) and, for Q5, its fifth bit (bit e of qh as a little-endian u32). q = lo | hi << 4. */
export function legacyCode(type: LegacyType, bytes: Uint8Array, o: number, e: number): [lo: number, hi: number] {
  const { qh, qs } = LEGACY_LAYOUT[type];
  const lo = e < 16 ? bytes[o + qs + e] & 0xf : bytes[o + qs + e - 16] >> 4;
  return [lo, qh < 0 ? 0 : (bytes[o + qh + (e >> 3)] >> (e & 7)) & 1];
}

/** Whether `quantize` can make `type` from floats (every runnable type: K-quants by a plain min/max fit). */
export function hasQuantizer(type: WeightType): boolean {
  return WEIGHT_TYPES.includes(type);
}

/** Quantizes `x` (a whole number of blocks) into Q8_0 blocks: d = amax/127, q = roundf(x/d). */
export function quantizeQ8_0(x: ArrayLike<number>): Uint8Array {
  checkBlocks("q8_0", x.length);
  const nb = x.length / QK;
  const out = new Uint8Array(nb * Q8_0_BLOCK_BYTES);
  const view = new DataView(out.buffer);
  for (let i = 0; i < nb; i++) {
    let amax = 0;
    for (let j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(fround(x[i * QK + j])));
    const d = fround(amax / 127);
    const id = d ? fround(1 / d) : 0;
    const o = i * Q8_0_BLOCK_BYTES;
    view.setUint16(o, f32ToF16(d), true);
    for (let j = 0; j < QK; j++) {
      const v = fround(fround(x[i * QK + j]) * id);
      // C roundf: halves away from zero (Math.round sends -2.5 to -2).
      const q = v < 0 ? -Math.round(-v) : Math.round(v);
      view.setInt8(o + 2 + j, q);
    }
  }
  return out;
}

/**
 * Quantizes `x` into legacy blocks of `type`.
 * Symmetric (Q4_0, Q5_0; n = 8 or 16): d = max/-n where max is the signed value of largest magnitude,
 * q = min(2n - 1, trunc(x/d + n + 0.5)). Asymmetric (Q4_1, Q5_1): m = min, d = (max - min)/(2^bits - 1),
 * q = trunc((x - min)/d + 0.5), clamped to 15 for Q4_1 and kept to its low 5 bits for Q5_1 (a uint8 cast in C).
 */
export function quantizeLegacy(type: LegacyType, x: ArrayLike<number>): Uint8Array {
  checkBlocks(type, x.length);
  const { bytes: blockBytes } = BLOCK_GEOMETRY[type];
  const layout = LEGACY_LAYOUT[type];
  const nb = x.length / QK;
  const out = new Uint8Array(nb * blockBytes);
  const view = new DataView(out.buffer);
  const q = new Array<number>(QK);
  for (let i = 0; i < nb; i++) {
    const v = Array.from({ length: QK }, (_, j) => fround(x[i * QK + j]));
    const o = i * blockBytes;
    if (layout.m < 0) {
      const n = layout.bits === 4 ? 8 : 16;
      let amax = 0;
      let max = 0;
      for (const value of v) {
        if (amax < Math.abs(value)) {
          amax = Math.abs(value);
          max = value;
        }
      }
      const d = fround(max / -n);
      const id = d ? fround(1 / d) : 0;
      view.setUint16(o, f32ToF16(d), true);
      // (int8_t)(v + n + 0.5f) truncates toward zero; v is in [-n, n] so the sum is positive.
      for (let j = 0; j < QK; j++) q[j] = Math.min(2 * n - 1, Math.trunc(fround(fround(v[j] * id) + n + 0.5)));
    } else {
      // Compared as C does (not Math.min/max, which order -0 below 0): the first of equal values wins.
      let min = Infinity;
      let max = -Infinity;
      for (const value of v) {
        if (value < min) min = value;
        if (value > max) max = value;
      }
      const d = fround(fround(max - min) / (2 ** layout.bits - 1));
      const id = d ? fround(1 / d) : 0;
      view.setUint16(o, f32ToF16(d), true);
      view.setUint16(o + layout.m, f32ToF16(min), true);
      for (let j = 0; j < QK; j++) {
        const code = Math.trunc(fround(fround(fround(v[j] - min) * id) + 0.5));
        q[j] = layout.bits === 4 ? Math.min(15, code) : code & 0xff;
      }
    }
    let qh = 0;
    for (let j = 0; j < QK / 2; j++) {
      out[o + layout.qs + j] = (q[j] & 0xf) | ((q[j + 16] & 0xf) << 4);
      qh |= ((q[j] >> 4) & 1) << j;
      qh |= ((q[j + 16] >> 4) & 1) << (j + 16);
    }
    if (layout.qh >= 0) view.setUint32(o + layout.qh, qh >>> 0, true);
  }
  return out;
}

/** Quantizes `x` into Q4_0 blocks: d = max/-8, q = min(15, trunc(x/d + 8.5)), element j in the low nibble of byte j
 *  and element j+16 in its high nibble. */
export function quantizeQ4_0(x: ArrayLike<number>): Uint8Array {
  return quantizeLegacy("q4_0", x);
}

/** GGUF bytes of `x` stored as `type` (f32 verbatim, f16 rounded to nearest even, legacy blocks quantized). */
export function quantize(type: WeightType, x: ArrayLike<number>): Uint8Array {
  switch (type) {
    case "f32":
      return new Uint8Array(Float32Array.from(x).buffer);
    case "f16": {
      const h = new Uint16Array(x.length);
      for (let i = 0; i < x.length; i++) h[i] = f32ToF16(x[i]);
      return new Uint8Array(h.buffer);
    }
    case "q8_0":
      return quantizeQ8_0(x);
    case "q4_0":
    case "q4_1":
    case "q5_0":
    case "q5_1":
      return quantizeLegacy(type, x);
    case "q4_k":
    case "q5_k":
    case "q6_k":
      return quantizeKQuant(type, x);
  }
}

/** Float64 values of `count` elements of GGUF `type` bytes, as ggml's f32 dequantizers give them:
 *  q * d (Q8_0), (q - 8) * d (Q4_0), q * d + m (Q4_1, Q5_1), (q - 16) * d (Q5_0), K-quants in k-quants.ts. */
export function dequantize(type: WeightType, bytes: Uint8Array, count: number): Float64Array {
  const need = ggufBytes(type, count);
  if (bytes.byteLength < need) {
    throw new SkiffError("bad-shape", `${type}: ${count} elements need ${need} bytes, got ${bytes.byteLength}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float64Array(count);
  switch (type) {
    case "f32":
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      break;
    case "f16":
      for (let i = 0; i < count; i++) out[i] = f16ToF32(view.getUint16(i * 2, true));
      break;
    case "q8_0":
      for (let b = 0; b < count / QK; b++) {
        const o = b * Q8_0_BLOCK_BYTES;
        const d = f16ToF32(view.getUint16(o, true));
        for (let j = 0; j < QK; j++) out[b * QK + j] = view.getInt8(o + 2 + j) * d;
      }
      break;
    case "q4_0":
    case "q4_1":
    case "q5_0":
    case "q5_1": {
      const { bytes: blockBytes } = BLOCK_GEOMETRY[type];
      const { m: mAt, bits } = LEGACY_LAYOUT[type];
      const zero = mAt >= 0 ? 0 : bits === 4 ? 8 : 16;
      for (let b = 0; b < count / QK; b++) {
        const o = b * blockBytes;
        const d = f16ToF32(view.getUint16(o, true));
        const m = mAt >= 0 ? f16ToF32(view.getUint16(o + mAt, true)) : 0;
        for (let e = 0; e < QK; e++) {
          const [lo, hi] = legacyCode(type, bytes, o, e);
          const q = lo | (hi << 4);
          // Adding m only where there is one keeps ggml's -0 for a zero code times a negative d.
          out[b * QK + e] = mAt >= 0 ? fround(q * d + m) : (q - zero) * d;
        }
      }
      break;
    }
    case "q4_k":
    case "q5_k":
    case "q6_k":
      dequantizeKQuant(type, bytes, count, out);
      break;
  }
  return out;
}

export function dequantizeQ8_0(bytes: Uint8Array, count: number): Float64Array {
  return dequantize("q8_0", bytes, count);
}

export function dequantizeQ4_0(bytes: Uint8Array, count: number): Float64Array {
  return dequantize("q4_0", bytes, count);
}

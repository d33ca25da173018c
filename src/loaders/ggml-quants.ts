// ggml's reference quantizers and float64 dequantizers for the weight types Skiff runs (F32, F16, Q8_0, Q4_0),
// producing and reading the exact GGUF tensor bytes. Ports of quantize_row_q8_0_ref / quantize_row_q4_0_ref /
// dequantize_row_* (ggml-quants.c): the arithmetic is f32 (Math.fround) as in the C code, so bytes are identical.
import { SkiffError } from "../errors.ts";
import { f16ToF32, f32ToF16 } from "./f16.ts";

export type WeightType = "f32" | "f16" | "q8_0" | "q4_0";

export const WEIGHT_TYPES: readonly WeightType[] = ["f32", "f16", "q8_0", "q4_0"];

/** Elements per quantization block. */
export const QK = 32;
/** GGUF bytes per block: f16 d + 32 int8 codes; f16 d + 16 bytes of nibbles. */
export const Q8_0_BLOCK_BYTES = 34;
export const Q4_0_BLOCK_BYTES = 18;

const fround = Math.fround;

/** GGUF byte length of `count` elements of `type` (count must be a whole number of blocks for block types). */
export function ggufBytes(type: WeightType, count: number): number {
  switch (type) {
    case "f32":
      return count * 4;
    case "f16":
      return count * 2;
    case "q8_0":
      return (count / QK) * Q8_0_BLOCK_BYTES;
    case "q4_0":
      return (count / QK) * Q4_0_BLOCK_BYTES;
  }
}

function checkBlocks(type: WeightType, count: number): void {
  if ((type === "q8_0" || type === "q4_0") && count % QK !== 0) {
    throw new SkiffError("bad-shape", `${type}: ${count} elements is not a whole number of ${QK}-element blocks`);
  }
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

/** Quantizes `x` into Q4_0 blocks: d = max/-8 (max = the signed value of largest magnitude), q = min(15, trunc(x/d + 8.5)),
 *  element j in the low nibble of byte j and element j+16 in its high nibble. */
export function quantizeQ4_0(x: ArrayLike<number>): Uint8Array {
  checkBlocks("q4_0", x.length);
  const nb = x.length / QK;
  const out = new Uint8Array(nb * Q4_0_BLOCK_BYTES);
  const view = new DataView(out.buffer);
  for (let i = 0; i < nb; i++) {
    let amax = 0;
    let max = 0;
    for (let j = 0; j < QK; j++) {
      const v = fround(x[i * QK + j]);
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = fround(max / -8);
    const id = d ? fround(1 / d) : 0;
    const o = i * Q4_0_BLOCK_BYTES;
    view.setUint16(o, f32ToF16(d), true);
    for (let j = 0; j < QK / 2; j++) {
      const x0 = fround(fround(x[i * QK + j]) * id);
      const x1 = fround(fround(x[i * QK + QK / 2 + j]) * id);
      // (int8_t)(v + 8.5f) truncates toward zero; v is in [-8, 8] so the sum is positive.
      const q0 = Math.min(15, Math.trunc(fround(x0 + 8.5)));
      const q1 = Math.min(15, Math.trunc(fround(x1 + 8.5)));
      out[o + 2 + j] = q0 | (q1 << 4);
    }
  }
  return out;
}

/** GGUF bytes of `x` stored as `type` (f32 verbatim, f16 rounded to nearest even, blocks quantized). */
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
      return quantizeQ4_0(x);
  }
}

/** Float64 values of `count` elements of GGUF `type` bytes: x = q*d (Q8_0), x = (q-8)*d (Q4_0). */
export function dequantize(type: WeightType, bytes: Uint8Array, count: number): Float64Array {
  checkBlocks(type, count);
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
      for (let b = 0; b < count / QK; b++) {
        const o = b * Q4_0_BLOCK_BYTES;
        const d = f16ToF32(view.getUint16(o, true));
        for (let j = 0; j < QK / 2; j++) {
          const byte = bytes[o + 2 + j];
          out[b * QK + j] = ((byte & 0xf) - 8) * d;
          out[b * QK + j + QK / 2] = ((byte >> 4) - 8) * d;
        }
      }
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

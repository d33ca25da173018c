// Repacks GGUF tensor bytes of a weight matrix into Skiff's runtime "planes": u32 words the WGSL kernels read
// with aligned loads, codes and block scales in separate arrays.
//
// W has `rows` output features and `cols` = K inputs (GGUF ne = [cols, rows], row-major, a row = cols elements).
// Every plane is row-major with a fixed row stride in u32 words, so any run of rows is a self-contained slice
// (weights larger than one storage binding are split by rows, see src/kernels/weights.ts).
//
//   f32   codes: the f32 bits; row stride = cols words.
//   f16   codes: two halves per word, element 2i in the low 16 bits, 2i+1 in the high 16 bits (0 pads an odd row);
//         row stride = ceil(cols/2) words. Kernels read them with core `unpack2x16float` (no shader-f16).
//   q8_0  (cols % 32 == 0) codes: int8, 4 per word, element 4i in bits 0..7; row stride = cols/4 words.
//         scales: the block's f16 d, 2 per word (block 2j low, 2j+1 high); row stride = ceil(cols/32/2) words.
//         value = q * d.
//   q4_0  (cols % 32 == 0) codes: 4 words per block, word w holds elements 8w..8w+7 of the block as unsigned
//         nibbles, element 8w+i at bits 4i..4i+3 (GGUF's "low nibbles 0..15, high nibbles 16..31" is undone here,
//         so one word = 8 consecutive weights); row stride = cols/8 words. scales: as q8_0. value = (q - 8) * d.
import { SkiffError } from "../errors.ts";
import { f16ToF32 } from "./f16.ts";
import { ggufBytes, Q4_0_BLOCK_BYTES, Q8_0_BLOCK_BYTES, QK, type WeightType } from "./ggml-quants.ts";

export interface PackedWeight {
  type: WeightType;
  rows: number;
  cols: number;
  codes: Uint32Array;
  /** Block scales (q8_0, q4_0 only). */
  scales?: Uint32Array;
}

/** Row strides of the planes, in u32 words (scaleWords is 0 for types without scales). */
export function planeStrides(type: WeightType, cols: number): { codeWords: number; scaleWords: number } {
  switch (type) {
    case "f32":
      return { codeWords: cols, scaleWords: 0 };
    case "f16":
      return { codeWords: Math.ceil(cols / 2), scaleWords: 0 };
    case "q8_0":
      return { codeWords: cols / 4, scaleWords: Math.ceil(cols / QK / 2) };
    case "q4_0":
      return { codeWords: cols / 8, scaleWords: Math.ceil(cols / QK / 2) };
  }
}

export function isBlockType(type: WeightType): boolean {
  return type === "q8_0" || type === "q4_0";
}

function describe(type: WeightType, rows: number, cols: number, name?: string): string {
  return `${name ? `tensor ${name} ` : ""}(${type}, rows=${rows}, cols=${cols})`;
}

/** Checks that `rows` x `cols` of `type` can be packed; throws a SkiffError naming the shape otherwise. */
export function checkWeightShape(type: WeightType, rows: number, cols: number, name?: string): void {
  if (!(Number.isInteger(rows) && Number.isInteger(cols) && rows >= 1 && cols >= 1)) {
    throw new SkiffError("bad-shape", `${describe(type, rows, cols, name)}: rows and cols must be positive integers`);
  }
  if (isBlockType(type) && cols % QK !== 0) {
    throw new SkiffError("bad-shape", `${describe(type, rows, cols, name)}: cols must be a multiple of ${QK}`);
  }
}

/** GGUF tensor bytes (ne = [cols, rows]) -> planes. `name` only labels errors. */
export function repack(type: WeightType, bytes: Uint8Array, rows: number, cols: number, name?: string): PackedWeight {
  checkWeightShape(type, rows, cols, name);
  const want = ggufBytes(type, rows * cols);
  if (bytes.byteLength !== want) {
    throw new SkiffError(
      "bad-shape",
      `${describe(type, rows, cols, name)}: expected ${want} bytes of GGUF data, got ${bytes.byteLength}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { codeWords, scaleWords } = planeStrides(type, cols);
  const codes = new Uint32Array(rows * codeWords);
  if (type === "f32") {
    for (let i = 0; i < rows * cols; i++) codes[i] = view.getUint32(i * 4, true);
    return { type, rows, cols, codes };
  }
  if (type === "f16") {
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const h = view.getUint16((r * cols + c) * 2, true);
        codes[r * codeWords + (c >> 1)] |= h << ((c & 1) * 16);
      }
    }
    return { type, rows, cols, codes };
  }
  const blocks = cols / QK;
  const scales = new Uint32Array(rows * scaleWords);
  const blockBytes = type === "q8_0" ? Q8_0_BLOCK_BYTES : Q4_0_BLOCK_BYTES;
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < blocks; b++) {
      const o = (r * blocks + b) * blockBytes;
      scales[r * scaleWords + (b >> 1)] |= view.getUint16(o, true) << ((b & 1) * 16);
      const q = o + 2;
      if (type === "q8_0") {
        const w = r * codeWords + b * 8;
        for (let i = 0; i < 8; i++) codes[w + i] = view.getUint32(q + i * 4, true);
      } else {
        // Element e of the block: low nibble of byte e (e < 16) or high nibble of byte e-16.
        const w = r * codeWords + b * 4;
        for (let e = 0; e < QK; e++) {
          const nibble = e < 16 ? bytes[q + e] & 0xf : bytes[q + e - 16] >> 4;
          codes[w + (e >> 3)] |= nibble << ((e & 7) * 4);
        }
      }
    }
  }
  return { type, rows, cols, codes, scales };
}

/** Float64 values (rows x cols, row-major) of packed planes: the inverse of repack, for tests and tools. */
export function unpack(p: PackedWeight): Float64Array {
  const { type, rows, cols, codes } = p;
  const { codeWords, scaleWords } = planeStrides(type, cols);
  const out = new Float64Array(rows * cols);
  const f32 = new Float32Array(codes.buffer, codes.byteOffset, codes.length);
  const scales = p.scales ?? new Uint32Array(0);
  if (isBlockType(type) && scales.length !== rows * scaleWords) {
    throw new SkiffError(
      "bad-shape",
      `${describe(type, rows, cols)}: scales hold ${scales.length} words, not ${rows * scaleWords}`,
    );
  }
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      if (type === "f32") {
        out[i] = f32[r * codeWords + c];
      } else if (type === "f16") {
        out[i] = f16ToF32((codes[r * codeWords + (c >> 1)] >>> ((c & 1) * 16)) & 0xffff);
      } else {
        const b = Math.floor(c / QK);
        const d = f16ToF32((scales[r * scaleWords + (b >> 1)] >>> ((b & 1) * 16)) & 0xffff);
        if (type === "q8_0") {
          const byte = (codes[r * codeWords + (c >> 2)] >>> ((c & 3) * 8)) & 0xff;
          out[i] = ((byte << 24) >> 24) * d;
        } else {
          out[i] = (((codes[r * codeWords + (c >> 3)] >>> ((c & 7) * 4)) & 0xf) - 8) * d;
        }
      }
    }
  }
  return out;
}

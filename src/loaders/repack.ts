// Repacks GGUF tensor bytes of a weight matrix into Skiff's runtime "planes": u32 words the WGSL kernels read
// with aligned loads, codes and block scales in separate arrays.
//
// W has `rows` output features and `cols` = K inputs (GGUF ne = [cols, rows], row-major, a row = cols elements).
// Every plane is row-major with a fixed row stride in u32 words, so any run of rows is a self-contained slice
// (weights larger than one storage binding are split by rows, see src/kernels/weights.ts). nb = cols/32 blocks of
// 32 elements; K-quants (cols % 256 == 0) have ns = cols/256 super-blocks of 8 such blocks ("sub-blocks").
//
//   f32   codes: the f32 bits; row stride = cols words.
//   f16   codes: two halves per word, element 2i in the low 16 bits, 2i+1 in the high 16 bits (0 pads an odd row);
//         row stride = ceil(cols/2) words. Kernels read them with core `unpack2x16float` (no shader-f16).
//   q8_0  (cols % 32 == 0) codes: int8, 4 per word, element 4i in bits 0..7; row stride = cols/4 words.
//         scales: the block's f16 d, 2 per word (block 2j low, 2j+1 high); row stride = ceil(nb/2) words.
//         value = q * d.
//   q4_0  (cols % 32 == 0) codes ("nibble words"): 4 words per block, word w holds elements 8w..8w+7 of the block
//         as unsigned nibbles, element 8w+i at bits 4i..4i+3 (GGUF's "low nibbles 0..15, high nibbles 16..31" is
//         undone here, so one word = 8 consecutive weights); row stride = cols/8 words. scales: as q8_0.
//         value = (q - 8) * d.
//   q4_1  codes: as q4_0. scales: one word per block, d in the low half and m in the high half (the block's first
//         4 GGUF bytes); row stride = nb words. value = q * d + m.
//   q5_0, q5_1  codes: the low 4 bits as q4_0's nibble words (4*nb words), then one word per block of fifth bits
//         (bit e = element e), padded to whole vec4: row stride = 4*nb + 4*ceil(nb/4) words. scales: q5_0 as q8_0
//         (value = (q - 16) * d), q5_1 as q4_1 (value = q * d + m), with q = nibble | fifth bit << 4.
//   q4_k  codes: as q4_0 (per sub-block). scales: 4 words per super-block, its first 16 GGUF bytes as they are:
//         d | dmin << 16, then the 12 bytes of packed 6-bit scales and mins (see k-quants.ts scaleMinK4), read as one
//         vec4; row stride = 4*ns words. value = d * scale_j * q - dmin * min_j for sub-block j.
//   q5_k  codes: as q5_0 (4*nb + nb words, nb being a multiple of 8). scales: as q4_k.
//   q6_k  codes: the low 4 bits as q4_0's nibble words (4*nb words), then two words per block of the top 2 bits
//         (element e at bits 2(e%16) of word e/16): row stride = 6*nb words. scales: 4 words per super-block of its
//         16 int8 scales (byte s scales elements 16s..16s+15), then the super-blocks' f16 d, 2 per word: row
//         stride = 4*ns + ceil(ns/2) words. value = d * scale * (q - 32).
//
// GPU bytes per weight equal GGUF's except q5_0/q5_1 rows (up to 3 words of padding) and odd-ns q6_k rows (2 bytes).
import { SkiffError } from "../errors.ts";
import { f16ToF32 } from "./f16.ts";
import {
  BLOCK_GEOMETRY,
  ggufBytes,
  LEGACY_LAYOUT,
  Q8_0_BLOCK_BYTES,
  QK,
  type LegacyType,
  type WeightType,
} from "./ggml-quants.ts";
import { isKQuant, kQuantSubBlock, K_QUANT_LAYOUT, Q6K_SCALES, QK_K, scaleMinK4 } from "./k-quants.ts";

export interface PackedWeight {
  type: WeightType;
  rows: number;
  cols: number;
  codes: Uint32Array;
  /** Block scales (every block type). */
  scales?: Uint32Array;
}

/** Row strides of the planes, in u32 words (scaleWords is 0 for types without scales). */
export function planeStrides(type: WeightType, cols: number): { codeWords: number; scaleWords: number } {
  const nb = Math.floor(cols / QK);
  const ns = Math.floor(cols / QK_K);
  const halfWords = Math.ceil(nb / 2);
  switch (type) {
    case "f32":
      return { codeWords: cols, scaleWords: 0 };
    case "f16":
      return { codeWords: Math.ceil(cols / 2), scaleWords: 0 };
    case "q8_0":
      return { codeWords: cols / 4, scaleWords: halfWords };
    case "q4_0":
      return { codeWords: 4 * nb, scaleWords: halfWords };
    case "q4_1":
      return { codeWords: 4 * nb, scaleWords: nb };
    case "q5_0":
      return { codeWords: 4 * nb + 4 * Math.ceil(nb / 4), scaleWords: halfWords };
    case "q5_1":
      return { codeWords: 4 * nb + 4 * Math.ceil(nb / 4), scaleWords: nb };
    case "q4_k":
      return { codeWords: 4 * nb, scaleWords: 4 * ns };
    case "q5_k":
      return { codeWords: 5 * nb, scaleWords: 4 * ns };
    case "q6_k":
      return { codeWords: 6 * nb, scaleWords: 4 * ns + Math.ceil(ns / 2) };
  }
}

export function isBlockType(type: WeightType): boolean {
  return BLOCK_GEOMETRY[type].elements > 1;
}

function describe(type: WeightType, rows: number, cols: number, name?: string): string {
  return `${name ? `tensor ${name} ` : ""}(${type}, rows=${rows}, cols=${cols})`;
}

/** Checks that `rows` x `cols` of `type` can be packed; throws a SkiffError naming the shape otherwise. */
export function checkWeightShape(type: WeightType, rows: number, cols: number, name?: string): void {
  if (!(Number.isInteger(rows) && Number.isInteger(cols) && rows >= 1 && cols >= 1)) {
    throw new SkiffError("bad-shape", `${describe(type, rows, cols, name)}: rows and cols must be positive integers`);
  }
  const { elements } = BLOCK_GEOMETRY[type];
  if (cols % elements !== 0) {
    throw new SkiffError(
      "bad-shape",
      `${describe(type, rows, cols, name)}: cols must be a multiple of ${elements} (the ${type} block length)`,
    );
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
  const scales = new Uint32Array(rows * scaleWords);
  const nb = cols / QK;
  const blockBytes = BLOCK_GEOMETRY[type].bytes;
  const blocksPerRow = cols / BLOCK_GEOMETRY[type].elements;
  for (let r = 0; r < rows; r++) {
    const s = r * scaleWords;
    for (let g = 0; g < blocksPerRow; g++) {
      const o = (r * blocksPerRow + g) * blockBytes;
      if (isKQuant(type)) {
        // Scales as they are: d, dmin and the packed 12 bytes (q4_k, q5_k) or the 16 int8 scales and d (q6_k).
        const at = type === "q6_k" ? Q6K_SCALES : 0;
        for (let i = 0; i < 4; i++) scales[s + 4 * g + i] = view.getUint32(o + at + 4 * i, true);
        if (type === "q6_k") {
          scales[s + 4 * blocksPerRow + (g >> 1)] |= view.getUint16(o + K_QUANT_LAYOUT.q6_k.d, true) << ((g & 1) * 16);
        }
      } else if (type === "q4_1" || type === "q5_1") {
        scales[s + g] = view.getUint32(o, true);
      } else {
        scales[s + (g >> 1)] |= view.getUint16(o, true) << ((g & 1) * 16);
      }
    }
    if (type === "q8_0") {
      for (let b = 0; b < nb; b++) {
        for (let i = 0; i < 8; i++)
          codes[r * codeWords + b * 8 + i] = view.getUint32((r * nb + b) * Q8_0_BLOCK_BYTES + 2 + 4 * i, true);
      }
      continue;
    }
    packCodes(type, bytes, r, nb, codes.subarray(r * codeWords, (r + 1) * codeWords));
  }
  return { type, rows, cols, codes, scales };
}

/** Nibbles `shift`/4 of bytes at .. at+7 as one nibble word (byte at + i -> bits 4i..4i+3). */
function nibbleWord(bytes: Uint8Array, at: number, shift: number): number {
  let word = 0;
  for (let i = 7; i >= 0; i--) word = (word << 4) | ((bytes[at + i] >> shift) & 0xf);
  return word >>> 0;
}

/** One row's codes of a nibble type: nibble words, then the high-bit words (q5: one per block, q6: two). Works on
 *  whole bytes (repacking runs over every weight of a model at import); the per-element readers legacyCode and
 *  kQuantCode, which the reference dequantizers use, check it through unpack in the tests. */
function packCodes(type: WeightType, bytes: Uint8Array, r: number, nb: number, row: Uint32Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const blockBytes = BLOCK_GEOMETRY[type].bytes;
  for (let b = 0; b < nb; b++) {
    if (isKQuant(type)) {
      const o = (r * (nb / 8) + (b >> 3)) * blockBytes;
      const s = kQuantSubBlock(type, b & 7);
      for (let w = 0; w < 4; w++) row[4 * b + w] = nibbleWord(bytes, o + s.lo + 8 * w, s.loShift);
      const at = o + s.hi;
      if (s.hiMask === 1) {
        let word = 0;
        for (let e = 31; e >= 0; e--) word = (word << 1) | ((bytes[at + e] >> s.hiShift) & 1);
        row[4 * nb + b] = word >>> 0;
      } else if (s.hiMask === 3) {
        for (let half = 0; half < 2; half++) {
          let word = 0;
          for (let e = 15; e >= 0; e--) word = (word << 2) | ((bytes[at + 16 * half + e] >> s.hiShift) & 3);
          row[4 * nb + 2 * b + half] = word >>> 0;
        }
      }
    } else {
      // Legacy blocks: elements 0..15 are the low nibbles of qs[0..15], 16..31 the high ones; Q5's qh is already
      // one bit per element.
      const o = (r * nb + b) * blockBytes;
      const { qs, qh } = LEGACY_LAYOUT[type as LegacyType];
      row[4 * b] = nibbleWord(bytes, o + qs, 0);
      row[4 * b + 1] = nibbleWord(bytes, o + qs + 8, 0);
      row[4 * b + 2] = nibbleWord(bytes, o + qs, 4);
      row[4 * b + 3] = nibbleWord(bytes, o + qs + 8, 4);
      if (qh >= 0) row[4 * nb + b] = view.getUint32(o + qh, true);
    }
  }
}

function half(words: Uint32Array, i: number, which: number): number {
  return f16ToF32((words[i] >>> ((which & 1) * 16)) & 0xffff);
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
  const nb = Math.floor(cols / QK);
  const ns = Math.floor(cols / QK_K);
  const kScaleBytes = new Uint8Array(12);
  for (let r = 0; r < rows; r++) {
    const row = codes.subarray(r * codeWords, (r + 1) * codeWords);
    const s = r * scaleWords;
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const b = c >> 5;
      const e = c & 31;
      const g = b >> 3; // super-block
      // The low 4 bits of a nibble type's code (meaningless for the others, which do not use it).
      const lo = (row[4 * b + (e >> 3)] >>> ((e & 7) * 4)) & 0xf;
      switch (type) {
        case "f32":
          out[i] = f32[r * codeWords + c];
          break;
        case "f16":
          out[i] = half(codes, r * codeWords + (c >> 1), c);
          break;
        case "q8_0":
          out[i] = (((row[c >> 2] >>> ((c & 3) * 8)) << 24) >> 24) * half(scales, s + (b >> 1), b);
          break;
        case "q4_0":
          out[i] = (lo - 8) * half(scales, s + (b >> 1), b);
          break;
        case "q5_0":
          out[i] = ((lo | (((row[4 * nb + b] >>> e) & 1) << 4)) - 16) * half(scales, s + (b >> 1), b);
          break;
        case "q4_1":
        case "q5_1": {
          const q = type === "q4_1" ? lo : lo | (((row[4 * nb + b] >>> e) & 1) << 4);
          out[i] = Math.fround(q * half(scales, s + b, 0) + half(scales, s + b, 1));
          break;
        }
        case "q4_k":
        case "q5_k": {
          const w = s + 4 * g;
          for (let k = 0; k < 12; k++) kScaleBytes[k] = scales[w + 1 + (k >> 2)] >>> ((k & 3) * 8);
          const [sc, m] = scaleMinK4(b & 7, kScaleBytes, 0);
          const q = type === "q4_k" ? lo : lo | (((row[4 * nb + b] >>> e) & 1) << 4);
          out[i] = Math.fround(half(scales, w, 0) * sc * q - half(scales, w, 1) * m);
          break;
        }
        case "q6_k": {
          const q = lo | (((row[4 * nb + 2 * b + (e >> 4)] >>> ((e & 15) * 2)) & 3) << 4);
          const k = (c & 255) >> 4; // the scale's byte in the super-block
          const sc = ((scales[s + 4 * g + (k >> 2)] >>> ((k & 3) * 8)) << 24) >> 24;
          out[i] = Math.fround(half(scales, s + 4 * ns + (g >> 1), g) * sc * (q - 32));
          break;
        }
      }
    }
  }
  return out;
}

// N:M structured sparsity: pattern parsing, detection, and the compressed runtime planes the sparse matmul kernels
// read (src/kernels/sparse-*.ts). At most N of every M consecutive weights of a row (along cols, the input
// dimension) are non-zero; only those N are stored, with their positions.
//
// Layout. W is rows x cols (cols % M == 0); each row is cut into nb = ceil(cols/32) blocks of 32 columns (the last
// one padded with zero weights), each block into 32/M groups of M columns, and each group keeps exactly N entries
// ("kept" k = g*N + j of the block is slot j of group g). Slots hold the group's non-zeros in ascending column order;
// a group with fewer non-zeros is filled with its lowest zero columns, whose stored value is an exact zero. So a
// block keeps K = 32*N/M values and positions, and every plane is row-major with a fixed row stride, so any run of
// rows is self-contained (the GPU upload splits by rows):
//
//   positions  the column of each kept value inside its group (0..M-1), log2(M) bits each, in a row-long stream of
//              fields: 16 per u32 word for M = 4, 8 (bits 0..23) for M = 8; field F = b*K + k at word F/per-word,
//              bits log2(M) * (F % per-word). So a 2:4 block is one word, 1:4 half a word (blocks 2i and 2i+1 share
//              one), 2:8 one word, 4:8 two. Row stride = ceil(nb*K / per-word) words.
//   values     the kept values in a row-long stream, in the dense type's own encoding: f32 bits (1 per word), f16
//              halves (2 per word, kept 2i low), q8_0 int8 codes (4 per word, kept 4i in bits 0..7) or q4_0 unsigned
//              nibbles (8 per word, kept 8i+e at bits 4e). Row stride = nb*K*bits/32 words: a block is K, K/2, K/4
//              or K/8 whole words (K is 8 or 16), so kernels load a block's values with aligned vec4/vec2/u32 loads.
//   scales     q8_0, q4_0: each 32-column block's f16 d, 2 per word, exactly as the dense planes (repack.ts).
//
// Quantized values are the source's own codes and block scales (a q4_0 zero is code 8, kept as such), so the sparse
// tensor equals the dense one exactly: value = q*d (q8_0), (q-8)*d (q4_0), as dense.
import { SkiffError } from "../errors.ts";
import { f16ToF32 } from "./f16.ts";
import { QK, quantize, type WeightType } from "./ggml-quants.ts";
import { planeStrides, repack, type PackedWeight } from "./repack.ts";

/** The dense types a sparse weight can hold its kept values in. */
export type SparseValueType = "f32" | "f16" | "q8_0" | "q4_0";

export const SPARSE_VALUE_TYPES: readonly SparseValueType[] = ["f32", "f16", "q8_0", "q4_0"];

export interface NMPattern {
  /** Kept (at most non-zero) entries per group. */
  n: number;
  /** Group length, along the input dimension. */
  m: number;
}

/** The runnable patterns, tightest first (then the shorter group, whose positions cost fewer bits). */
export const NM_PATTERNS: readonly NMPattern[] = [
  { n: 1, m: 4 },
  { n: 2, m: 8 },
  { n: 2, m: 4 },
  { n: 4, m: 8 },
];

export function patternName(p: NMPattern): string {
  return `${p.n}:${p.m}`;
}

const SUPPORTED = NM_PATTERNS.map(patternName).join(", ");

/** "2:4" -> { n: 2, m: 4 }; anything but a runnable pattern is refused with its text named. */
export function parsePattern(text: string): NMPattern {
  const match = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(String(text));
  const found = match && NM_PATTERNS.find((p) => p.n === Number(match[1]) && p.m === Number(match[2]));
  if (!found) {
    throw new SkiffError("bad-argument", `N:M pattern "${String(text)}" is not supported (supported: ${SUPPORTED})`);
  }
  return found;
}

/** A pattern given as text or object, checked to be runnable. */
export function toPattern(p: NMPattern | string): NMPattern {
  return parsePattern(typeof p === "string" ? p : patternName(p));
}

/** Kept values per 32-column block. */
export function keptPerBlock(p: NMPattern): number {
  return (QK * p.n) / p.m;
}

/** Bits of one position field and position fields per u32 word. */
export function positionFields(p: NMPattern): { bits: number; perWord: number } {
  return p.m === 4 ? { bits: 2, perWord: 16 } : { bits: 3, perWord: 8 };
}

/** Bits of one stored value. */
const VALUE_BITS: Record<SparseValueType, number> = { f32: 32, f16: 16, q8_0: 8, q4_0: 4 };

export interface SparseStrides {
  /** 32-column blocks per row (the last may be partial). */
  blocks: number;
  /** Row strides in u32 words (scaleWords = 0 for float types). */
  positionWords: number;
  valueWords: number;
  scaleWords: number;
}

export function sparseStrides(pattern: NMPattern, type: SparseValueType, cols: number): SparseStrides {
  const blocks = Math.ceil(cols / QK);
  const kept = blocks * keptPerBlock(pattern);
  return {
    blocks,
    positionWords: Math.ceil(kept / positionFields(pattern).perWord),
    valueWords: (kept * VALUE_BITS[type]) / 32,
    scaleWords: type === "q8_0" || type === "q4_0" ? Math.ceil(blocks / 2) : 0,
  };
}

export interface SparseWeight {
  pattern: NMPattern;
  type: SparseValueType;
  rows: number;
  cols: number;
  positions: Uint32Array;
  values: Uint32Array;
  /** q8_0, q4_0 only. */
  scales?: Uint32Array;
}

/** Bytes of a sparse weight's planes (what it occupies on the GPU). */
export function sparseBytes(pattern: NMPattern, type: SparseValueType, rows: number, cols: number): number {
  const s = sparseStrides(pattern, type, cols);
  return rows * (s.positionWords + s.valueWords + s.scaleWords) * 4;
}

function describe(what: string, rows: number, cols: number, name?: string): string {
  return `${name ? `tensor ${name} ` : ""}(${what}, rows=${rows}, cols=${cols})`;
}

function checkSparseType(type: string, rows: number, cols: number, name?: string): asserts type is SparseValueType {
  if (!SPARSE_VALUE_TYPES.includes(type as SparseValueType)) {
    throw new SkiffError(
      "unsupported-type",
      `${describe(type, rows, cols, name)}: sparse weights hold ${SPARSE_VALUE_TYPES.join(", ")} values, not ${type}`,
    );
  }
}

/**
 * Largest number of non-zeros in any group of `m` columns of any row (cols % m == 0), reading element (r, c) through
 * `nonZero`; stops early once it exceeds `stopAbove` (then no pattern with that m can hold).
 */
function maxPerGroup(
  nonZero: (r: number, c: number) => boolean,
  rows: number,
  cols: number,
  m: number,
  stopAbove: number,
): number {
  let most = 0;
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < cols; g += m) {
      let count = 0;
      for (let j = 0; j < m; j++) if (nonZero(r, g + j)) count++;
      if (count > most) {
        most = count;
        if (most > stopAbove) return most;
      }
    }
  }
  return most;
}

/** The tightest runnable pattern whose groups all hold at most N non-zeros, or undefined. */
function tightestPattern(
  nonZero: (r: number, c: number) => boolean,
  rows: number,
  cols: number,
): NMPattern | undefined {
  const most = new Map<number, number>();
  for (const p of NM_PATTERNS) {
    if (cols % p.m !== 0) continue;
    if (!most.has(p.m)) {
      const widest = Math.max(...NM_PATTERNS.filter((q) => q.m === p.m).map((q) => q.n));
      most.set(p.m, maxPerGroup(nonZero, rows, cols, p.m, widest));
    }
    if (most.get(p.m)! <= p.n) return p;
  }
  return undefined;
}

/** The tightest runnable pattern that `values` (rows x cols, row-major) satisfies exactly, or undefined. */
export function detectNM(values: Float32Array | Float64Array, rows: number, cols: number): NMPattern | undefined {
  if (values.length !== rows * cols) {
    throw new SkiffError("bad-shape", `detectNM: ${values.length} values for rows=${rows} x cols=${cols}`);
  }
  return tightestPattern((r, c) => values[r * cols + c] !== 0, rows, cols);
}

/**
 * The tightest runnable pattern that a tensor in the runtime planes (repack.ts) satisfies exactly, judged on its
 * codes (a q8_0 code 0, a q4_0 code 8 or a block whose scale is 0 is an exact zero), or undefined: also for types
 * sparse weights cannot hold. What import uses to store pruned tensors compressed.
 */
export function detectPackedNM(dense: PackedWeight): NMPattern | undefined {
  const { type, rows, cols, codes } = dense;
  if (!SPARSE_VALUE_TYPES.includes(type as SparseValueType)) return undefined;
  const t = type as SparseValueType;
  const { codeWords, scaleWords } = planeStrides(type, cols);
  const scales = dense.scales ?? new Uint32Array(0);
  const scaleOf = (r: number, c: number) =>
    scaleWords ? (scales[r * scaleWords + (c >> 6)] >>> (((c >> 5) & 1) * 16)) & 0xffff : 1;
  return tightestPattern((r, c) => !isZero(t, denseCode(t, codes, r * codeWords, c), scaleOf(r, c)), rows, cols);
}

/** Element c of a dense row's planes in the sparse value encoding (VALUE_BITS[type] bits). */
function denseCode(type: SparseValueType, codes: Uint32Array, rowWord: number, c: number): number {
  switch (type) {
    case "f32":
      return codes[rowWord + c];
    case "f16":
      return (codes[rowWord + (c >> 1)] >>> ((c & 1) * 16)) & 0xffff;
    case "q8_0":
      return (codes[rowWord + (c >> 2)] >>> ((c & 3) * 8)) & 0xff;
    case "q4_0":
      return (codes[rowWord + (c >> 3)] >>> ((c & 7) * 4)) & 0xf;
  }
}

/** Whether a code (of the block whose f16 scale bits are `d`) stands for an exact zero: +-0, or a zero code point. */
function isZero(type: SparseValueType, code: number, d: number): boolean {
  switch (type) {
    case "f32":
      return (code & 0x7fffffff) === 0;
    case "f16":
      return (code & 0x7fff) === 0;
    case "q8_0":
      return code === 0 || (d & 0x7fff) === 0;
    case "q4_0":
      return code === 8 || (d & 0x7fff) === 0;
  }
}

/** Packs `bits`-wide field `f` of a row stream starting at word `base`, `perWord` fields per word. */
function putField(out: Uint32Array, base: number, f: number, perWord: number, bits: number, v: number): void {
  out[base + Math.floor(f / perWord)] |= v << ((f % perWord) * bits);
}

/** Overwrites field `f` (putField ORs into a zeroed stream; this replaces whatever the field held). */
function setField(out: Uint32Array, base: number, f: number, perWord: number, bits: number, v: number): void {
  const shift = (f % perWord) * bits;
  const mask = bits === 32 ? 0xffffffff : ((1 << bits) - 1) << shift;
  const i = base + Math.floor(f / perWord);
  out[i] = (out[i] & ~mask) | ((v << shift) & mask);
}

function getField(words: Uint32Array, base: number, f: number, perWord: number, bits: number): number {
  const word = words[base + Math.floor(f / perWord)] >>> ((f % perWord) * bits);
  return bits === 32 ? word : word & ((1 << bits) - 1);
}

/**
 * Dense runtime planes (repack.ts) -> sparse planes. The kept columns are chosen from the dense values; their
 * codes (and the block scales) are copied, so the result is exactly the dense tensor. Throws a bad-argument
 * SkiffError naming the first row and group with more than N non-zeros.
 */
export function compressPackedNM(dense: PackedWeight, pattern: NMPattern | string, name?: string): SparseWeight {
  const { type, rows, cols } = dense;
  checkSparseType(type, rows, cols, name);
  const p = toPattern(pattern);
  if (cols % p.m !== 0) {
    throw new SkiffError(
      "bad-shape",
      `${describe(type, rows, cols, name)}: cols must be a multiple of ${p.m} for ${patternName(p)} sparsity`,
    );
  }
  const s = sparseStrides(p, type, cols);
  const { bits, perWord } = positionFields(p);
  const valueBits = VALUE_BITS[type];
  const codeWords = planeStrides(type, cols).codeWords;
  const out: SparseWeight = {
    pattern: p,
    type,
    rows,
    cols,
    positions: new Uint32Array(rows * s.positionWords),
    values: new Uint32Array(rows * s.valueWords),
    scales: dense.scales ? dense.scales.slice() : undefined,
  };
  const groups = (s.blocks * QK) / p.m;
  const kept = new Array<number>(p.n);
  const denseScales = dense.scales ?? new Uint32Array(0);
  const scaleWords = planeStrides(type, cols).scaleWords;
  for (let r = 0; r < rows; r++) {
    const rowWord = r * codeWords;
    for (let g = 0; g < groups; g++) {
      const c0 = g * p.m;
      const b = c0 >> 5;
      const d = scaleWords ? (denseScales[r * scaleWords + (b >> 1)] >>> ((b & 1) * 16)) & 0xffff : 1;
      // The non-zero columns, then the lowest zero ones, in ascending order: the slots.
      let n = 0;
      let used = 0;
      for (let j = 0; j < p.m && c0 < cols; j++) {
        if (isZero(type, denseCode(type, dense.codes, rowWord, c0 + j), d)) continue;
        if (n === p.n) {
          throw new SkiffError(
            "bad-argument",
            `${describe(type, rows, cols, name)}: row ${r}, columns ${c0}..${c0 + p.m - 1} hold more than ` +
              `${p.n} non-zeros, so the tensor is not ${patternName(p)} sparse`,
          );
        }
        kept[n++] = j;
        used |= 1 << j;
      }
      for (let j = 0; n < p.n; j++) {
        if (!(used & (1 << j))) {
          kept[n++] = j;
          used |= 1 << j;
        }
      }
      kept.sort((x, y) => x - y);
      for (let i = 0; i < p.n; i++) {
        const f = g * p.n + i;
        putField(out.positions, r * s.positionWords, f, perWord, bits, kept[i]);
        // Columns past cols (the padded end of the last block) keep an exact zero.
        const c = c0 + kept[i];
        const code = c < cols ? denseCode(type, dense.codes, rowWord, c) : 0;
        putField(out.values, r * s.valueWords, f, 32 / valueBits, valueBits, code);
      }
    }
  }
  return out;
}

/**
 * Dequantized (or plain float) values -> sparse planes of `type`: the dense rows, zeros written out, are stored as
 * `type` first (ggml's quantizers for q8_0/q4_0, which keep zeros zero), then compressed as compressPackedNM.
 */
export function compressNM(
  values: Float32Array | Float64Array,
  rows: number,
  cols: number,
  type: SparseValueType,
  pattern: NMPattern | string,
  name?: string,
): SparseWeight {
  checkSparseType(type, rows, cols, name);
  if (values.length !== rows * cols) {
    throw new SkiffError("bad-shape", `${describe(type, rows, cols, name)}: got ${values.length} values`);
  }
  const bytes = quantize(type as WeightType, values);
  return compressPackedNM(repack(type as WeightType, bytes, rows, cols, name), pattern, name);
}

/** The planes' strides, once every plane is checked to hold exactly its rows. */
function checkPlanes(w: SparseWeight): SparseStrides {
  const { pattern: p, type, rows, cols } = w;
  const s = sparseStrides(p, type, cols);
  for (const [plane, words] of [
    ["positions", s.positionWords],
    ["values", s.valueWords],
    ["scales", s.scaleWords],
  ] as const) {
    const have = (plane === "scales" ? w.scales?.length : w[plane].length) ?? 0;
    if (have !== rows * words) {
      throw new SkiffError(
        "bad-shape",
        `${describe(`${patternName(p)} ${type}`, rows, cols)}: ${plane} hold ${have} words, not ${rows * words}`,
      );
    }
  }
  return s;
}

/**
 * Sparse planes -> the dense runtime planes (repack.ts) of the same tensor, code for code: each kept code at its
 * column, the type's zero (q4_0: code 8) everywhere else, the block scales as they are. What a device whose dense
 * kernel runs a pattern faster than the sparse one is given (src/kernels/sparse-matmul.ts).
 */
export function expandNM(w: SparseWeight): PackedWeight {
  const { type, rows, cols } = w;
  const valueBits = VALUE_BITS[type];
  const codeWords = planeStrides(type, cols).codeWords;
  const codes = new Uint32Array(rows * codeWords);
  if (type === "q4_0") codes.fill(0x88888888);
  forEachKept(w, (r, c, code) => setField(codes, r * codeWords, c, 32 / valueBits, valueBits, code));
  return { type, rows, cols, codes, scales: w.scales?.slice() };
}

/** Calls `visit` with the row, column and stored code of every kept value inside the tensor (not the padding). */
function forEachKept(w: SparseWeight, visit: (r: number, c: number, code: number) => void): void {
  const { pattern: p, type, rows, cols } = w;
  const s = checkPlanes(w);
  const { bits, perWord } = positionFields(p);
  const valueBits = VALUE_BITS[type];
  const groups = (s.blocks * QK) / p.m;
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < groups; g++) {
      for (let i = 0; i < p.n; i++) {
        const f = g * p.n + i;
        const c = g * p.m + getField(w.positions, r * s.positionWords, f, perWord, bits);
        if (c < cols) visit(r, c, getField(w.values, r * s.valueWords, f, 32 / valueBits, valueBits));
      }
    }
  }
}

/** Float64 values (rows x cols, row-major, zeros written out) of sparse planes: for tests and tools. */
export function decompressNM(w: SparseWeight): Float64Array {
  const { type, rows, cols } = w;
  const scaleWords = sparseStrides(w.pattern, type, cols).scaleWords;
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  const out = new Float64Array(rows * cols);
  forEachKept(w, (r, c, code) => {
    const b = c >> 5;
    const d = w.scales ? f16ToF32((w.scales[r * scaleWords + (b >> 1)] >>> ((b & 1) * 16)) & 0xffff) : 1;
    let v: number;
    if (type === "f32") {
      u32[0] = code;
      v = f32[0];
    } else if (type === "f16") v = f16ToF32(code);
    else if (type === "q8_0") v = ((code << 24) >> 24) * d;
    else v = (code - 8) * d;
    out[r * cols + c] = v;
  });
  return out;
}

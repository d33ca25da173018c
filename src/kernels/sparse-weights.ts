// N:M sparse weight matrices on the GPU: the planes of src/loaders/sparse-nm.ts uploaded as row chunks whose every
// plane fits one storage binding (as weights.ts does for dense weights), and the WGSL that reads them.
import accessSource from "../../shaders/sparse-access.wgsl?raw";
import pattern14Source from "../../shaders/sparse-pattern-1-4.wgsl?raw";
import pattern24Source from "../../shaders/sparse-pattern-2-4.wgsl?raw";
import pattern28Source from "../../shaders/sparse-pattern-2-8.wgsl?raw";
import pattern48Source from "../../shaders/sparse-pattern-4-8.wgsl?raw";
import f32Source from "../../shaders/sparse-values-f32.wgsl?raw";
import f16Source from "../../shaders/sparse-values-f16.wgsl?raw";
import q8_0Source from "../../shaders/sparse-values-q8-0.wgsl?raw";
import q4_0Source from "../../shaders/sparse-values-q4-0.wgsl?raw";
import type { GpuContext } from "../gpu/device.ts";
import { uploadBuffer } from "../gpu/readback.ts";
import { destroyWeight, type GpuWeight } from "./weights.ts";
import { SkiffError } from "../errors.ts";
import {
  patternName,
  SPARSE_VALUE_TYPES,
  sparseStrides,
  toPattern,
  type NMPattern,
  type SparseStrides,
  type SparseValueType,
  type SparseWeight,
} from "../loaders/sparse-nm.ts";

export interface SparseChunk {
  /** First row of W held by this chunk. */
  rowStart: number;
  rows: number;
  positions: GPUBuffer;
  values: GPUBuffer;
  /** q8_0, q4_0 only. */
  scales?: GPUBuffer;
}

export interface GpuSparseWeight {
  label: string;
  pattern: NMPattern;
  type: SparseValueType;
  /** Output features (N). */
  rows: number;
  /** Input features (K). */
  cols: number;
  strides: SparseStrides;
  chunks: SparseChunk[];
  /**
   * The same tensor in dense planes, uploaded on first call (set by whoever still holds the CPU planes: the model
   * loader). Tuning times the dense kernels on it where they might beat the sparse ones; `dense` holds it while a
   * prepared kernel uses it.
   */
  expand?: () => GpuWeight;
  dense?: GpuWeight;
  /** A prepared kernel reads the sparse planes (set by sparse-matmul.ts when a sparse variant is chosen). */
  sparseInUse?: boolean;
}

const PATTERN_SOURCES: Record<string, string> = {
  "1:4": pattern14Source,
  "2:4": pattern24Source,
  "2:8": pattern28Source,
  "4:8": pattern48Source,
};

const VALUE_SOURCES: Record<SparseValueType, string> = {
  f32: f32Source,
  f16: f16Source,
  q8_0: q8_0Source,
  q4_0: q4_0Source,
};

/** "2:4 q4_0 (rows=8, cols=64)": how launchers and errors name a sparse weight. */
export function describeSparse(w: { pattern: NMPattern; type: string; rows: number; cols: number }): string {
  return `${patternName(w.pattern)} ${w.type} (rows=${w.rows}, cols=${w.cols})`;
}

/** Throws unless the weight's pattern and value type have kernels, naming them. */
export function checkSparseKernels(w: { pattern: NMPattern; type: string; rows: number; cols: number }): void {
  const name = describeSparse(w);
  try {
    toPattern(w.pattern);
  } catch (e) {
    throw new SkiffError("bad-argument", `sparse weight ${name}: ${(e as Error).message}`);
  }
  if (!SPARSE_VALUE_TYPES.includes(w.type as SparseValueType)) {
    throw new SkiffError(
      "unsupported-type",
      `sparse weight ${name}: no kernels for ${w.type} values (runnable: ${SPARSE_VALUE_TYPES.join(", ")})`,
    );
  }
  if (!(Number.isInteger(w.rows) && w.rows >= 1 && Number.isInteger(w.cols) && w.cols % w.pattern.m === 0)) {
    throw new SkiffError(
      "bad-shape",
      `sparse weight ${name}: rows must be positive and cols a positive multiple of ${w.pattern.m}`,
    );
  }
}

/**
 * The WGSL reading a sparse weight: positions at binding 2, values at 3, scales at 4 (q8_0, q4_0), then the uniform;
 * the dense kernels' weight-access interface and the rowwise GEMV's (see shaders/sparse-access.wgsl).
 */
export function sparseSource(pattern: NMPattern, type: SparseValueType): { source: string; name: string } {
  const name = patternName(pattern);
  return { source: [accessSource, PATTERN_SOURCES[name], VALUE_SOURCES[type]].join("\n"), name: `${name}:${type}` };
}

/** Most rows one chunk may hold so that each of its planes, padded to 16 bytes, fits `ctx.bindingLimit` bytes. */
export function maxSparseChunkRows(ctx: GpuContext, s: SparseStrides): number {
  const widest = Math.max(s.positionWords, s.valueWords, s.scaleWords) * 4;
  return Math.floor((Math.floor(ctx.bindingLimit / 16) * 16) / widest);
}

/** Uploads sparse planes, split by rows into chunks whose every plane fits one storage binding. */
export function uploadSparseWeight(ctx: GpuContext, w: SparseWeight, label: string): GpuSparseWeight {
  checkSparseKernels(w);
  const { pattern, type, rows, cols } = w;
  const s = sparseStrides(pattern, type, cols);
  const planes = [
    ["positions", w.positions, s.positionWords],
    ["values", w.values, s.valueWords],
    ["scales", w.scales, s.scaleWords],
  ] as const;
  for (const [plane, words, stride] of planes) {
    if ((words?.length ?? 0) !== rows * stride) {
      throw new SkiffError(
        "bad-shape",
        `sparse weight ${label} ${describeSparse(w)}: ${plane} hold ${words?.length ?? 0} words, expected ` +
          `${rows * stride}`,
      );
    }
  }
  const perChunk = maxSparseChunkRows(ctx, s);
  if (perChunk < 1) {
    throw new SkiffError(
      "too-big-for-device",
      `sparse weight ${label} ${describeSparse(w)}: one row needs more than one storage binding may hold ` +
        `(${ctx.bindingLimit} bytes)`,
    );
  }
  const chunks: SparseChunk[] = [];
  for (let rowStart = 0; rowStart < rows; rowStart += perChunk) {
    const n = Math.min(perChunk, rows - rowStart);
    const part = chunks.length;
    const slice = (words: Uint32Array, stride: number, plane: string) =>
      uploadPadded(ctx, words.subarray(rowStart * stride, (rowStart + n) * stride), `${label}.${plane}.${part}`);
    chunks.push({
      rowStart,
      rows: n,
      positions: slice(w.positions, s.positionWords, "positions"),
      values: slice(w.values, s.valueWords, "values"),
      scales: w.scales ? slice(w.scales, s.scaleWords, "scales") : undefined,
    });
  }
  return { label, pattern, type, rows, cols, strides: s, chunks };
}

/** Whether a graph resource (a weight, a buffer, a table) is an N:M sparse weight. */
export function isSparseWeight(w: unknown): w is GpuSparseWeight {
  return typeof w === "object" && w !== null && "pattern" in w && "chunks" in w;
}

export function destroySparseWeight(w: GpuSparseWeight): void {
  destroyChunks(w);
  if (w.dense) destroyWeight(w.dense);
  w.dense = undefined;
}

/**
 * Frees the sparse planes of a weight whose every op chose the dense copy, so it does not take its memory twice;
 * from then on `chunks` is empty and sparse-matmul.ts runs it dense whatever was chosen. Returns whether it did.
 */
export function releaseUnusedSparsePlanes(w: GpuSparseWeight): boolean {
  if (!w.dense || w.sparseInUse || w.chunks.length === 0) return false;
  destroyChunks(w);
  return true;
}

function destroyChunks(w: GpuSparseWeight): void {
  for (const c of w.chunks) {
    c.positions.destroy();
    c.values.destroy();
    c.scales?.destroy();
  }
  w.chunks = [];
}

/** The weight bindings of one chunk, after the kernel's activation and output bindings. */
export function sparseChunkBindings(chunk: SparseChunk): GPUBuffer[] {
  return chunk.scales ? [chunk.positions, chunk.values, chunk.scales] : [chunk.positions, chunk.values];
}

/** Planes are read as vec4 / vec2, so every buffer is padded with zeros to a multiple of 16 bytes. */
function uploadPadded(ctx: GpuContext, words: Uint32Array, label: string): GPUBuffer {
  const padded = new Uint32Array(Math.max(4, Math.ceil(words.length / 4) * 4));
  padded.set(words);
  return uploadBuffer(ctx.device, padded, label);
}

// Weight matrices on the GPU: packed planes (src/loaders/repack.ts) uploaded as row chunks, each chunk's planes
// small enough for one storage binding, so matmul and embedding launchers dispatch once per chunk.
import f32Source from "../../shaders/weights-f32.wgsl?raw";
import f32UnalignedSource from "../../shaders/weights-f32-unaligned.wgsl?raw";
import f16Source from "../../shaders/weights-f16.wgsl?raw";
import f16UnalignedSource from "../../shaders/weights-f16-unaligned.wgsl?raw";
import q8_0Source from "../../shaders/weights-q8-0.wgsl?raw";
import q4_0Source from "../../shaders/weights-q4-0.wgsl?raw";
import blocksSource from "../../shaders/weights-blocks.wgsl?raw";
import q4_1Source from "../../shaders/weights-q4-1.wgsl?raw";
import q5_0Source from "../../shaders/weights-q5-0.wgsl?raw";
import q5_1Source from "../../shaders/weights-q5-1.wgsl?raw";
import q4_kSource from "../../shaders/weights-q4-k.wgsl?raw";
import q5_kSource from "../../shaders/weights-q5-k.wgsl?raw";
import q6_kSource from "../../shaders/weights-q6-k.wgsl?raw";
import xVec4Source from "../../shaders/gemm-x-vec4.wgsl?raw";
import xScalarSource from "../../shaders/gemm-x-scalar.wgsl?raw";
import type { GpuContext } from "../gpu/device.ts";
import { SkiffError } from "../errors.ts";
import { WEIGHT_TYPES, type WeightType } from "../loaders/ggml-quants.ts";
import { checkWeightShape, planeStrides, type PackedWeight } from "../loaders/repack.ts";

export interface WeightChunk {
  /** First row of W held by this chunk. */
  rowStart: number;
  rows: number;
  codes: GPUBuffer;
  /** Present for block types. */
  scales?: GPUBuffer;
}

export interface GpuWeight {
  label: string;
  type: WeightType;
  /** Output features (N). */
  rows: number;
  /** Input features (K). */
  cols: number;
  /** Row strides of the planes in u32 words (scaleWords = 0 without scales). */
  codeWords: number;
  scaleWords: number;
  chunks: WeightChunk[];
}

/** Bytes of the runtime planes of a rows x cols weight (what it occupies on the GPU). */
export function weightBytes(type: WeightType, rows: number, cols: number): number {
  const { codeWords, scaleWords } = planeStrides(type, cols);
  return rows * (codeWords + scaleWords) * 4;
}

/** Most rows one chunk may hold so that each of its planes, padded to 16 bytes, fits `ctx.bindingLimit` bytes. */
export function maxChunkRows(ctx: GpuContext, type: WeightType, cols: number): number {
  const { codeWords, scaleWords } = planeStrides(type, cols);
  const widest = Math.max(codeWords, scaleWords) * 4;
  return Math.floor((Math.floor(ctx.bindingLimit / 16) * 16) / widest);
}

/** Uploads packed planes, split by rows into chunks whose every plane fits one storage binding. */
export function uploadWeight(ctx: GpuContext, packed: PackedWeight, label: string): GpuWeight {
  const { type, rows, cols } = packed;
  checkWeightShape(type, rows, cols, label);
  const { codeWords, scaleWords } = planeStrides(type, cols);
  if (packed.codes.length !== rows * codeWords || (packed.scales?.length ?? 0) !== rows * scaleWords) {
    throw new SkiffError(
      "bad-shape",
      `weight ${label} (${type}, rows=${rows}, cols=${cols}): planes hold ${packed.codes.length} code and ` +
        `${packed.scales?.length ?? 0} scale words, expected ${rows * codeWords} and ${rows * scaleWords}`,
    );
  }
  const perChunk = maxChunkRows(ctx, type, cols);
  if (perChunk < 1) {
    throw new SkiffError(
      "too-big-for-device",
      `weight ${label} (${type}, rows=${rows}, cols=${cols}): one row needs ${codeWords * 4} bytes, ` +
        `more than one storage binding may hold (${ctx.bindingLimit})`,
    );
  }
  const chunks: WeightChunk[] = [];
  for (let rowStart = 0; rowStart < rows; rowStart += perChunk) {
    const n = Math.min(perChunk, rows - rowStart);
    const part = chunks.length;
    chunks.push({
      rowStart,
      rows: n,
      codes: upload(
        ctx,
        packed.codes.subarray(rowStart * codeWords, (rowStart + n) * codeWords),
        `${label}.codes.${part}`,
      ),
      scales: packed.scales
        ? upload(
            ctx,
            packed.scales.subarray(rowStart * scaleWords, (rowStart + n) * scaleWords),
            `${label}.scales.${part}`,
          )
        : undefined,
    });
  }
  return { label, type, rows, cols, codeWords, scaleWords, chunks };
}

export function destroyWeight(weight: GpuWeight): void {
  for (const c of weight.chunks) {
    c.codes.destroy();
    c.scales?.destroy();
  }
}

/** Codes are read as vec4<u32>, so every plane buffer is padded to a multiple of 16 bytes (with zeros). */
function upload(ctx: GpuContext, words: Uint32Array, label: string): GPUBuffer {
  const buffer = ctx.device.createBuffer({
    label,
    size: Math.max(16, Math.ceil(words.byteLength / 16) * 16),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    mappedAtCreation: true,
  });
  new Uint32Array(buffer.getMappedRange(), 0, words.length).set(words);
  buffer.unmap();
  return buffer;
}

// ---- Shared by the launchers of the kernels that read weights (gemv, gemm, embedding) ----

/** The block types after q4_0, whose access files share the helpers of weights-blocks.wgsl. */
const BLOCK_SOURCES: Partial<Record<WeightType, string>> = {
  q4_1: q4_1Source,
  q5_0: q5_0Source,
  q5_1: q5_1Source,
  q4_k: q4_kSource,
  q5_k: q5_kSource,
  q6_k: q6_kSource,
};

/** WGSL weight access for a weight: bindings 2 (codes) and 3 (scales, block types), then the uniform, and
 *  w_block / w_scale / w_chunk / w_load8_tail with the WBlock and WScale types they pass between them (see
 *  shaders/weights-*.wgsl). Float rows that do not start on vec4 boundaries get a word-by-word file of their own: a
 *  runtime branch would cost SwiftShader both paths. */
export function weightSource(type: WeightType, cols: number): { source: string; name: string } {
  switch (type) {
    case "f32":
      return cols % 4 === 0 ? { source: f32Source, name: "f32" } : { source: f32UnalignedSource, name: "f32u" };
    case "f16":
      return cols % 8 === 0 ? { source: f16Source, name: "f16" } : { source: f16UnalignedSource, name: "f16u" };
    case "q8_0":
      return { source: q8_0Source, name: "q8_0" };
    case "q4_0":
      return { source: q4_0Source, name: "q4_0" };
  }
  const source = BLOCK_SOURCES[type];
  if (!source) {
    throw new SkiffError(
      "unsupported-type",
      `weights of type ${String(type)} have no kernels (runnable: ${WEIGHT_TYPES.join(", ")})`,
    );
  }
  return { source: `${blocksSource}\n${source}`, name: type };
}

/** Activation access for kernels reading X rows of `cols` f32: vec4 loads when rows start on vec4 boundaries. */
export function activationSource(cols: number): { source: string; name: string } {
  return cols % 4 === 0 ? { source: xVec4Source, name: "x4" } : { source: xScalarSource, name: "x1" };
}

/** The weight bindings of one chunk, after the kernel's activation and output bindings. */
export function chunkBindings(chunk: WeightChunk): GPUBuffer[] {
  return chunk.scales ? [chunk.codes, chunk.scales] : [chunk.codes];
}

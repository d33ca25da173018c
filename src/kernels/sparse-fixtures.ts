// Test support for the sparse kernels: random N:M sparse tensors (zeros written out) and their GPU planes, with the
// float64 values the dense reference must use (the stored tensor decompressed, so a test checks the kernel, not the
// quantizer). Also used by the benchmark.
import type { GpuContext } from "../gpu/device.ts";
import { dequantize, ggufBytes, quantize } from "../loaders/ggml-quants.ts";
import { repack } from "../loaders/repack.ts";
import {
  compressNM,
  compressPackedNM,
  decompressNM,
  type NMPattern,
  type SparseValueType,
  type SparseWeight,
} from "../loaders/sparse-nm.ts";
import { destroySparseWeight, uploadSparseWeight, type GpuSparseWeight } from "./sparse-weights.ts";
import { destroyWeight, uploadWeight, type GpuWeight } from "./weights.ts";

/**
 * rows x cols values where every group of m columns has at most n non-zeros, at random columns; about one group in
 * five keeps fewer than n (so compression pads with zeros), `full` forces exactly n everywhere.
 */
export function randomNMValues(
  rows: number,
  cols: number,
  pattern: NMPattern,
  random: () => number,
  scale = 1,
  full = false,
): Float32Array {
  const out = new Float32Array(rows * cols);
  const order = Array.from({ length: pattern.m }, (_, i) => i);
  for (let g = 0; g < (rows * cols) / pattern.m; g++) {
    // A partial Fisher-Yates shuffle picks the group's columns.
    const count = full || random() >= 0.2 ? pattern.n : Math.floor(random() * pattern.n);
    for (let i = 0; i < count; i++) {
      const j = i + Math.floor(random() * (pattern.m - i));
      [order[i], order[j]] = [order[j], order[i]];
      // Away from zero, so that quantization keeps it a non-zero most of the time.
      const v = (0.1 + 0.9 * random()) * (random() < 0.5 ? -1 : 1);
      out[g * pattern.m + order[i]] = v * scale;
    }
  }
  return out;
}

export interface SparseFixture {
  sparse: SparseWeight;
  gpu: GpuSparseWeight;
  /** The stored tensor, rows x cols, row-major, zeros written out. */
  values: Float64Array;
}

export function randomSparseWeight(
  ctx: GpuContext,
  pattern: NMPattern,
  type: SparseValueType,
  rows: number,
  cols: number,
  random: () => number,
  label = "w",
): SparseFixture {
  const sparse = compressNM(randomNMValues(rows, cols, pattern, random), rows, cols, type, pattern, label);
  return { sparse, gpu: uploadSparseWeight(ctx, sparse, label), values: decompressNM(sparse) };
}

export interface SparseBenchWeight {
  /** The dense kernels' weight: the same tensor, zeros written out. */
  gpu: GpuWeight;
  sparse: GpuSparseWeight;
  /** W(row, j), dequantized one row at a time for spot checks. */
  value(row: number, j: number): number;
  destroy(): void;
}

/** A random N:M tensor of `type` as both a dense and a sparse GPU weight (for the benchmark: one tensor, both
 *  kernels). Values are scaled by `scale`. */
export function randomSparsePair(
  ctx: GpuContext,
  pattern: NMPattern,
  type: SparseValueType,
  rows: number,
  cols: number,
  random: () => number,
  label: string,
  scale = 0.05,
): SparseBenchWeight {
  const bytes = quantize(type, randomNMValues(rows, cols, pattern, random, scale, true));
  const packed = repack(type, bytes, rows, cols, label);
  const gpu = uploadWeight(ctx, packed, `${label}.dense`);
  const sparse = uploadSparseWeight(ctx, compressPackedNM(packed, pattern, label), `${label}.sparse`);
  const rowBytes = ggufBytes(type, cols);
  const cache = new Map<number, Float64Array>();
  return {
    gpu,
    sparse,
    value(row, j) {
      let values = cache.get(row);
      if (!values) {
        values = dequantize(type, bytes.subarray(row * rowBytes, (row + 1) * rowBytes), cols);
        cache.set(row, values);
      }
      return values[j];
    },
    destroy() {
      destroyWeight(gpu);
      destroySparseWeight(sparse);
    },
  };
}

// Launcher for shaders/rope.wgsl: rotary position embedding in place on q or k, both llama.cpp layouts,
// partial rotary (nRot < headSize) and Llama 3.1 frequency factors. `update({ start_pos })` moves it along.
import source from "../../shaders/rope.wgsl?raw";
import type { GpuContext } from "../gpu/device.ts";
import { SkiffError } from "../errors.ts";
import { defineKernel, prepareKernel, type Binding, type PreparedKernel } from "./dispatch.ts";
import { linearGrid, requireCount, requireWords } from "./grid.ts";

/** Which elements of a head form a rotated pair: llama.cpp NORM (`llama`) or NEOX (`qwen2`). */
export type RopeLayout = "adjacent" | "halves";

const WG = 256;

export const ropeKernel = defineKernel("rope", source, [
  ["n_tokens", "u32"],
  ["n_heads", "u32"],
  ["head_size", "u32"],
  ["n_rot", "u32"],
  ["start_pos", "u32"],
  ["neox", "u32"],
] as const);

export interface RopeArgs {
  /** (nTokens, nHeads * headSize), rotated in place. */
  x: GPUBuffer | Binding;
  nTokens: number;
  nHeads: number;
  headSize: number;
  /** Leading dims of each head that rotate: even, at most headSize (GGUF `rope.dimension_count`). */
  nRot: number;
  /** Theta base (GGUF `rope.freq_base`, 10000 when absent). */
  base: number;
  /** Position of token 0; change it per step with `update({ start_pos })`. */
  startPos: number;
  /** "adjacent" for `llama` (NORM), "halves" for `qwen2` (NEOX). */
  layout: RopeLayout;
  /** nRot / 2 divisors of the pair frequencies (GGUF `rope_freqs.weight`), read on the CPU at prepare time. */
  freqFactors?: ArrayLike<number>;
}

/**
 * Pair i's frequency in turns per position, base^(-2i/nRot) / factor / (2 pi), as a 64-bit binary fraction
 * [hi, lo] per pair. Computed in float64 so that pos * freq stays exact to ~1e-11 turn at any u32 position.
 */
export function ropeFrequencyTable(nRot: number, base: number, freqFactors?: ArrayLike<number>): Uint32Array {
  const table = new Uint32Array(nRot);
  for (let i = 0; i < nRot / 2; i++) {
    const turns = Math.pow(base, (-2 * i) / nRot) / (freqFactors ? freqFactors[i] : 1) / (2 * Math.PI);
    // Only the fraction of a turn matters; scaling by 2^32 and flooring are exact in float64.
    const scaled = (turns - Math.floor(turns)) * 4294967296;
    const hi = Math.floor(scaled);
    table[2 * i] = hi;
    table[2 * i + 1] = Math.floor((scaled - hi) * 4294967296);
  }
  return table;
}

const tables = new WeakMap<GPUDevice, Map<string, GPUBuffer>>();

/** One table per (nRot, base, factors) on a device, shared by every layer's q and k. */
function frequencyBuffer(ctx: GpuContext, nRot: number, base: number, freqFactors?: ArrayLike<number>): GPUBuffer {
  let perDevice = tables.get(ctx.device);
  if (!perDevice) tables.set(ctx.device, (perDevice = new Map()));
  const key = `${nRot}|${base}|${freqFactors ? Array.from(freqFactors).join(",") : ""}`;
  let buffer = perDevice.get(key);
  if (!buffer) {
    const table = ropeFrequencyTable(nRot, base, freqFactors);
    buffer = ctx.device.createBuffer({
      label: "rope.freqs",
      size: table.byteLength,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
      mappedAtCreation: true,
    });
    new Uint32Array(buffer.getMappedRange()).set(table);
    buffer.unmap();
    perDevice.set(key, buffer);
  }
  return buffer;
}

export function rope(ctx: GpuContext, a: RopeArgs): Promise<PreparedKernel<typeof ropeKernel.params.fields>> {
  requireCount("rope", "nTokens", a.nTokens);
  requireCount("rope", "nHeads", a.nHeads);
  requireCount("rope", "headSize", a.headSize);
  if (!(Number.isInteger(a.nRot) && a.nRot >= 2 && a.nRot % 2 === 0 && a.nRot <= a.headSize)) {
    throw new SkiffError("bad-shape", `rope: nRot=${a.nRot} must be even, >= 2 and <= headSize=${a.headSize}`);
  }
  if (!(Number.isInteger(a.startPos) && a.startPos >= 0 && a.startPos + a.nTokens <= 2 ** 32)) {
    throw new SkiffError("bad-argument", `rope: startPos=${a.startPos} must be an integer position >= 0`);
  }
  if (!(a.base > 1 && Number.isFinite(a.base))) {
    throw new SkiffError("bad-argument", `rope: base=${a.base} must be a finite number > 1`);
  }
  if (a.layout !== "adjacent" && a.layout !== "halves") {
    throw new SkiffError("bad-argument", `rope: layout=${String(a.layout)} must be "adjacent" or "halves"`);
  }
  if (a.freqFactors) {
    const f = a.freqFactors;
    if (f.length !== a.nRot / 2) {
      throw new SkiffError("bad-shape", `rope: freqFactors has ${f.length} entries, needs nRot/2 = ${a.nRot / 2}`);
    }
    for (let i = 0; i < f.length; i++) {
      if (!(f[i] > 0 && Number.isFinite(f[i]))) {
        throw new SkiffError("bad-argument", `rope: freqFactors[${i}]=${f[i]} must be finite and > 0`);
      }
    }
  }
  requireWords(ctx, "rope", "x", a.x, a.nTokens * a.nHeads * a.headSize);
  return prepareKernel({
    ctx,
    kernel: ropeKernel,
    bindings: [a.x, frequencyBuffer(ctx, a.nRot, a.base, a.freqFactors)],
    params: {
      n_tokens: a.nTokens,
      n_heads: a.nHeads,
      head_size: a.headSize,
      n_rot: a.nRot,
      start_pos: a.startPos,
      neox: a.layout === "halves" ? 1 : 0,
    },
    workgroups: linearGrid(ctx, (a.nTokens * a.nHeads * a.nRot) / 2, WG),
  });
}

// Test support for kernel checks: seeded random inputs, poisoned outputs with guard regions, and
// normalised-error comparison against the float64 reference. Used only by *.gpu.test.ts files.
import { createGpuContext, type GpuContext } from "../gpu/device.ts";
import { readBuffer, uploadBuffer } from "../gpu/readback.ts";

let shared: Promise<GpuContext> | undefined;

/** One device for the whole test file; fails loudly (never skips) when WebGPU is missing. */
export function testContext(): Promise<GpuContext> {
  shared ??= createGpuContext().catch((e: unknown) => {
    throw new Error(`GPU tests need WebGPU, and this browser has none: ${String(e)}`);
  });
  return shared;
}

/** A fresh seed per run unless SKIFF_SEED is fixed in the page URL (?seed=N); tests print it on failure. */
export function freshSeed(): number {
  const fixed = typeof location !== "undefined" ? new URLSearchParams(location.search).get("seed") : null;
  return fixed ? Number(fixed) : (Math.random() * 2 ** 32) >>> 0;
}

/** mulberry32: small, fast, good enough for test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomF32(n: number, random: () => number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (random() * 2 - 1) * scale;
  return out;
}

/** The word written around and into every output before a dispatch: a NaN payload no kernel produces. */
export const POISON = 0x7fbadbad;
/** 64 words = 256 bytes, the usual minStorageBufferOffsetAlignment, so the output can be bound at an offset. */
export const GUARD_WORDS = 64;

export interface GuardedOutput {
  buffer: GPUBuffer;
  /** Bind this range as the kernel's output. */
  binding: { buffer: GPUBuffer; offset: number; size: number };
  words: number;
}

export function guardedOutput(ctx: GpuContext, words: number, label = "out"): GuardedOutput {
  const total = GUARD_WORDS + Math.max(words, 4) + GUARD_WORDS;
  const fill = new Uint32Array(total).fill(POISON);
  const buffer = uploadBuffer(ctx.device, fill, label);
  return { buffer, binding: { buffer, offset: GUARD_WORDS * 4, size: Math.max(words, 4) * 4 }, words };
}

/** Reads the output, checking that both guards are untouched and that every output word was written. */
export async function readGuarded(ctx: GpuContext, out: GuardedOutput): Promise<Uint32Array> {
  const all = new Uint32Array(await readBuffer(ctx.device, out.buffer));
  for (let i = 0; i < GUARD_WORDS; i++) {
    if (all[i] !== POISON) throw new Error(`guard before the output was overwritten at word ${i - GUARD_WORDS}`);
    const j = GUARD_WORDS + Math.max(out.words, 4) + i;
    if (all[j] !== POISON) throw new Error(`guard after the output was overwritten at word ${out.words + i}`);
  }
  const body = all.slice(GUARD_WORDS, GUARD_WORDS + out.words);
  const unwritten = body.findIndex((w) => w === POISON);
  if (unwritten >= 0) throw new Error(`output word ${unwritten} of ${out.words} was never written`);
  return body;
}

export async function readGuardedF32(ctx: GpuContext, out: GuardedOutput): Promise<Float32Array> {
  const words = await readGuarded(ctx, out);
  return new Float32Array(words.buffer, words.byteOffset, words.length);
}

export interface Comparison {
  /** max |got - want| / max(max |want|, scale, tiny): error relative to the output's scale. */
  normalisedError: number;
  worstIndex: number;
}

/** Throws on NaN/Inf in the result; returns the normalised error against the reference. */
export function compare(got: ArrayLike<number>, want: ArrayLike<number>, minScale = 0): Comparison {
  if (got.length !== want.length) throw new Error(`length ${got.length} != reference length ${want.length}`);
  let scale = Math.max(1e-30, minScale);
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  let worst = 0;
  let worstIndex = -1;
  for (let i = 0; i < got.length; i++) {
    if (!Number.isFinite(got[i])) throw new Error(`non-finite output ${got[i]} at index ${i}`);
    const e = Math.abs(got[i] - want[i]);
    if (e > worst) {
      worst = e;
      worstIndex = i;
    }
  }
  return { normalisedError: worst / scale, worstIndex };
}

/**
 * Asserts the comparison is within tolerance, naming the case, the seed and the worst element. `minScale` is the
 * size of the terms a sum cancelled (sum |a * b| for a dot product): rounding error follows the terms, not the
 * result, so a short sum that happens to cancel would otherwise fail on correct code.
 */
export function expectClose(
  name: string,
  seed: number,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  tolerance: number,
  minScale = 0,
): void {
  const c = compare(got, want, minScale);
  if (!(c.normalisedError <= tolerance)) {
    const i = c.worstIndex;
    throw new Error(
      `${name} (seed ${seed}): normalised error ${c.normalisedError.toExponential(3)} > ${tolerance} at ${i}: got ${got[i]}, want ${want[i]}`,
    );
  }
}

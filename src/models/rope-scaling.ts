// RoPE context extension as per-pair frequency divisors: the one form the rope kernel and the reference take
// (pair i turns by pos * base^(-2i/nRot) / factor[i]), made on the CPU once per model.
import type { LlamaConfig, RopeScaling } from "./llama-config.ts";

type Llama3Scaling = Extract<RopeScaling, { type: "llama3" }>;

/**
 * Llama 3.1's divisors, as llama.cpp's convert_hf_to_gguf.py writes them into `rope_freqs.weight`: 1 for
 * wavelengths under originalContextLength / highFreqFactor, `factor` over originalContextLength / lowFreqFactor,
 * and between them 1 / ((1 - smooth) / factor + smooth) with smooth = (originalContextLength / wavelength -
 * lowFreqFactor) / (highFreqFactor - lowFreqFactor); the same as transformers' llama3 inv_freq. The converter works
 * in torch float32: the frequencies are rounded to f32 as there (they decide which band a pair falls in), the rest
 * is float64 rounded once, so a value may differ from a converted file's in the last bit.
 */
export function llama3RopeFactors(nRot: number, base: number, s: Llama3Scaling): Float32Array {
  const lowFreqWavelen = s.originalContextLength / s.lowFreqFactor;
  const highFreqWavelen = s.originalContextLength / s.highFreqFactor;
  const factors = new Float32Array(nRot / 2);
  for (let i = 0; i < factors.length; i++) {
    const freq = Math.fround(1 / Math.fround(Math.pow(base, Math.fround((2 * i) / nRot))));
    const wavelen = (2 * Math.PI) / freq;
    if (wavelen < highFreqWavelen) factors[i] = 1;
    else if (wavelen > lowFreqWavelen) factors[i] = s.factor;
    else {
      const smooth = (s.originalContextLength / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
      factors[i] = 1 / ((1 - smooth) / s.factor + smooth);
    }
  }
  return factors;
}

/**
 * The divisors a model's rope runs with: the stored `rope_freqs` (which already is Llama 3's scaling), else the
 * ones `llama3` metadata describes; `linear` scaling multiplies whichever there is (or ones) by its factor.
 * Undefined when every divisor would be 1.
 */
export function ropeFreqFactors(
  c: Pick<LlamaConfig, "nRot" | "ropeTheta" | "ropeScaling">,
  stored?: Float32Array,
): Float32Array | undefined {
  const s = c.ropeScaling;
  if (!s) return stored;
  if (s.type === "llama3") return stored ?? llama3RopeFactors(c.nRot, c.ropeTheta, s);
  const ones = new Float32Array(c.nRot / 2).fill(1);
  return Float32Array.from(stored ?? ones, (v) => v * s.factor);
}

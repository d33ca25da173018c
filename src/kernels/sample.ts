// Launcher for shaders/sample.wgsl: draws token ids on the GPU with temperature, top-k and top-p from a
// seeded counter-based generator, so a decode step only rewrites `step` with `update`.
import source from "../../shaders/sample.wgsl?raw";
import type { GpuContext } from "../gpu/device.ts";
import { SkiffError } from "../errors.ts";
import { defineKernel, prepareKernel, type Binding, type PreparedKernel } from "./dispatch.ts";
import type { ParamValues } from "../gpu/uniforms.ts";
import { overlaps, requireCount, requireWords, rowWorkgroupSize } from "./grid.ts";

export const sampleKernel = defineKernel("sample", source, [
  ["rows", "u32"],
  ["n", "u32"],
  ["temperature", "f32"],
  ["top_k", "u32"],
  ["top_p", "f32"],
  ["seed", "u32"],
  ["step", "u32"],
] as const);

type SampleFields = typeof sampleKernel.params.fields;

export interface Sampler {
  /** 0 is greedy (argmax). */
  temperature: number;
  /** Keep the topK largest logits (and ties with the last); 0 keeps all, 1 is greedy. */
  topK: number;
  /** Keep the most probable tokens until their mass reaches topP (and ties with the last); in (0, 1], 1 keeps all. */
  topP: number;
  /** Key of the generator: one seed, one reproducible sequence. */
  seed: number;
  /** Counter of the generator: the decode step (row r of a batch draws at counter (step, r)). */
  step: number;
}

function requireU32(name: string, v: number): void {
  if (!(Number.isInteger(v) && v >= 0 && v < 2 ** 32)) {
    throw new SkiffError("bad-argument", `sample: ${name}=${v} must be an integer in [0, 2^32)`);
  }
}

/** Checks settings and maps them to the uniform's fields; use it for `update` when settings change. */
export function samplerParams(s: Partial<Sampler>): Partial<ParamValues<SampleFields>> {
  const p: Partial<ParamValues<SampleFields>> = {};
  if (s.temperature !== undefined) {
    if (!(s.temperature >= 0 && Number.isFinite(s.temperature))) {
      throw new SkiffError("bad-argument", `sample: temperature=${s.temperature} must be finite and >= 0`);
    }
    p.temperature = s.temperature;
  }
  if (s.topK !== undefined) {
    requireU32("topK", s.topK);
    p.top_k = s.topK;
  }
  if (s.topP !== undefined) {
    if (!(s.topP > 0 && s.topP <= 1)) throw new SkiffError("bad-argument", `sample: topP=${s.topP} must be in (0, 1]`);
    p.top_p = s.topP;
  }
  if (s.seed !== undefined) {
    requireU32("seed", s.seed);
    p.seed = s.seed;
  }
  if (s.step !== undefined) {
    requireU32("step", s.step);
    p.step = s.step;
  }
  return p;
}

export interface SampleArgs extends Sampler {
  /** (rows, n) f32 logits. */
  logits: GPUBuffer | Binding;
  /** rows u32 token ids. */
  out: GPUBuffer | Binding;
  /** Vocabulary size. */
  n: number;
  /** Rows drawn independently; 1 by default. */
  rows?: number;
  /** Invocations per row; the default suits the adapter (see rowWorkgroupSize). */
  workgroupSize?: number;
}

export function sample(ctx: GpuContext, a: SampleArgs): Promise<PreparedKernel<SampleFields>> {
  const rows = a.rows ?? 1;
  requireCount("sample", "n", a.n);
  requireCount("sample", "rows", rows);
  const maxRows = ctx.limits.maxComputeWorkgroupsPerDimension;
  if (rows > maxRows) throw new SkiffError("bad-shape", `sample: rows=${rows} exceeds ${maxRows}`);
  requireWords(ctx, "sample", "logits", a.logits, rows * a.n);
  requireWords(ctx, "sample", "out", a.out, rows);
  if (overlaps(a.out, a.logits)) throw new SkiffError("bad-argument", "sample: out overlaps logits");
  const settings = samplerParams(a) as ParamValues<SampleFields>;
  return prepareKernel({
    ctx,
    kernel: sampleKernel,
    bindings: [a.logits, a.out],
    params: { ...settings, rows, n: a.n },
    workgroups: [rows],
    constants: { WG: rowWorkgroupSize(ctx, "sample", a.workgroupSize) },
  });
}

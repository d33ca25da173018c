// The arithmetic floor of a matmul kernel: the same WGSL with every read of its weight planes (codes, scales, values,
// positions) replaced by a word made from the read's own index, so the kernel does all its decoding and arithmetic
// but loads no weight bytes. Its time bounds what any layout of the same weights can reach with that arithmetic on
// this device: where even the floor misses a bandwidth target, the kernel is bound by arithmetic, not by memory.
// Bench only: the output is meaningless and is not checked.
import type { GpuContext } from "../src/gpu/device.ts";
import { PipelineCache } from "../src/gpu/pipeline-cache.ts";

/** The storage arrays that hold a weight, in every weight and sparse access file (shaders/weights-*.wgsl,
 *  shaders/sparse-*.wgsl). */
const WEIGHT_ARRAYS = ["codes", "scales", "values", "positions"] as const;

const DECLARATION = /var<storage,\s*read>\s+(\w+)\s*:\s*array<(u32|vec[234]<u32>)>\s*;/g;

/** A made-up word per index: normal f32 and f16 bit patterns (so no NaN, infinity or denormal slows the math),
 *  any nibble or byte codes. Two bit operations a component, against a per-lane gather for a load. */
const FLOOR_WORD_MASK = "0x00ff00ffu";
const FLOOR_WORD_BITS = ["0x3c003c00u", "0x3c013c00u", "0x3c003c01u", "0x3c013c01u"];

function floorFunction(name: string, type: string): string {
  const size = type === "u32" ? 1 : Number(type[3]);
  const bits = FLOOR_WORD_BITS.slice(0, size);
  // arrayLength keeps the binding statically used, so the pipeline's layout and bind group stay those of the kernel;
  // `& 0u` lets the compiler drop it.
  const word =
    size === 1
      ? `((i ^ keep) & ${FLOOR_WORD_MASK}) ^ ${bits[0]}`
      : `((vec${size}<u32>(i ^ keep) & vec${size}<u32>(${FLOOR_WORD_MASK})) ^ vec${size}<u32>(${bits.join(", ")}))`;
  return [
    `fn floor_${name}(i: u32) -> ${type} {`,
    `  let keep = arrayLength(&${name}) & 0u;`,
    `  return ${word};`,
    `}`,
  ].join("\n");
}

/** Index of the `]` closing the `[` at `open`. */
function closingBracket(code: string, open: number): number {
  let depth = 0;
  for (let i = open; i < code.length; i++) {
    if (code[i] === "[") depth++;
    else if (code[i] === "]" && --depth === 0) return i;
  }
  throw new Error(`arithmetic floor: unbalanced [ at offset ${open}`);
}

/** `name[expr]` -> `floor_name(u32(expr))` for each read of one weight array (a read inside another's index too). */
function replaceReads(code: string, name: string): { code: string; reads: number } {
  const read = new RegExp(`\\b${name}\\[`, "g");
  let reads = 0;
  for (let m = read.exec(code); m; m = read.exec(code)) {
    const open = m.index + name.length;
    const close = closingBracket(code, open);
    code = `${code.slice(0, m.index)}floor_${name}(u32(${code.slice(open + 1, close)}))${code.slice(close + 1)}`;
    read.lastIndex = m.index;
    reads++;
  }
  return { code, reads };
}

export interface FloorSource {
  code: string;
  /** Weight reads replaced: 0 for a kernel that reads no weight (a q4_0 GEMV's pre-pass over x, say). */
  reads: number;
}

/** The kernel source without weight loads (see the file's header). */
export function withoutWeightLoads(source: string): FloorSource {
  let code = source;
  let reads = 0;
  const functions: string[] = [];
  for (const [, name, type] of source.matchAll(DECLARATION)) {
    if (!(WEIGHT_ARRAYS as readonly string[]).includes(name)) continue;
    const replaced = replaceReads(code, name);
    code = replaced.code;
    reads += replaced.reads;
    functions.push(floorFunction(name, type));
  }
  // Appended: `enable` directives must stay first, and module-scope order does not matter in WGSL.
  return { code: functions.length ? `${code}\n${functions.join("\n")}\n` : code, reads };
}

/** Wraps a device so that every shader module it makes is built from the floor source; counts the reads replaced. */
function floorDevice(device: GPUDevice, counter: { reads: number }): GPUDevice {
  return new Proxy(device, {
    get(target, prop) {
      if (prop === "createShaderModule") {
        return (d: GPUShaderModuleDescriptor) => {
          const floor = withoutWeightLoads(d.code);
          counter.reads += floor.reads;
          return target.createShaderModule({ ...d, code: floor.code });
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

export interface FloorContext {
  ctx: GpuContext;
  /** Weight reads replaced in the kernels compiled so far: 0 means the floor measured nothing. */
  readonly reads: number;
}

/** A context whose launchers compile floor kernels (a pipeline cache of its own, so no real kernel is reused). */
export function floorContext(ctx: GpuContext): FloorContext {
  const counter = { reads: 0 };
  return {
    ctx: { ...ctx, pipelines: new PipelineCache(floorDevice(ctx.device, counter)) },
    get reads() {
      return counter.reads;
    },
  };
}

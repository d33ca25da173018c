// Launcher for shaders/copy-vec4.wgsl: copies `count` vec4<f32> words from `x` to `out`, splitting ranges larger
// than one storage binding into pieces. The benchmark uses it to measure the device's own copy bandwidth.
import source from "../../shaders/copy-vec4.wgsl?raw";
import type { GpuContext } from "../gpu/device.ts";
import { SkiffError } from "../errors.ts";
import { combine, defineKernel, prepareKernel, type Binding, type PreparedKernel } from "./dispatch.ts";
import { asBinding, bindingBytes, linearGrid, requireCount } from "./grid.ts";

export const copyVec4Kernel = defineKernel("copy-vec4", source, [["count", "u32"]] as const);

const WG = 256;
const VEC4_BYTES = 16;

export interface CopyVec4Args {
  x: GPUBuffer | Binding;
  out: GPUBuffer | Binding;
  /** Number of vec4<f32> words (16 bytes each) to copy. */
  count: number;
}

export type CopyVec4Kernel = PreparedKernel<typeof copyVec4Kernel.params.fields>;

export function copyVec4(ctx: GpuContext, a: CopyVec4Args): Promise<CopyVec4Kernel> {
  requireCount("copy-vec4", "count", a.count);
  const bytes = a.count * VEC4_BYTES;
  for (const [name, b] of [
    ["x", a.x],
    ["out", a.out],
  ] as const) {
    const have = bindingBytes(b);
    if (have < bytes) {
      throw new SkiffError("bad-shape", `copy-vec4: ${name} holds ${have} bytes, count=${a.count} needs ${bytes}`);
    }
  }
  return prepareCopy(ctx, asBinding(a.x), asBinding(a.out), a.count);
}

async function prepareCopy(ctx: GpuContext, x: Binding, out: Binding, count: number): Promise<CopyVec4Kernel> {
  // Pieces start at multiples of the offset alignment so each can be bound at its own offset.
  const align = ctx.limits.minStorageBufferOffsetAlignment;
  const pieceCount = Math.max(align, Math.floor(ctx.bindingLimit / align) * align) / VEC4_BYTES;
  const parts: CopyVec4Kernel[] = [];
  for (let start = 0; start < count; start += pieceCount) {
    const n = Math.min(pieceCount, count - start);
    parts.push(
      await prepareKernel({
        ctx,
        kernel: copyVec4Kernel,
        bindings: [slice(x, start * VEC4_BYTES, n * VEC4_BYTES), slice(out, start * VEC4_BYTES, n * VEC4_BYTES)],
        params: { count: n },
        workgroups: linearGrid(ctx, n, WG),
        constants: { WG },
      }),
    );
  }
  return combine(parts);
}

function slice(b: Binding, offset: number, size: number): Binding {
  return { buffer: b.buffer, offset: (b.offset ?? 0) + offset, size };
}

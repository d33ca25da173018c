// Launcher helpers: a 1-D grid folded into 2-D past the per-dimension workgroup limit, binding checks that
// fail with the shapes named instead of a WebGPU validation error, and the row-reduction workgroup size.
import type { GpuContext } from "../gpu/device.ts";
import { SkiffError } from "../errors.ts";
import { ceilDiv, type Binding } from "./dispatch.ts";

/**
 * Workgroups for `invocations` threads in groups of `workgroupSize`: [x, y] with x * y >= the groups needed.
 * Shaders recover the flat index as (wg.y * num_workgroups.x + wg.x) * WG + local index, and bound-check it.
 */
export function linearGrid(ctx: GpuContext, invocations: number, workgroupSize: number): [number, number] {
  return foldWorkgroups(ctx, ceilDiv(invocations, workgroupSize));
}

/** `groups` workgroups as [x, y] under the per-dimension limit, x * y >= groups; kernels index wg.y * x + wg.x. */
export function foldWorkgroups(ctx: GpuContext, groups: number): [number, number] {
  const max = ctx.limits.maxComputeWorkgroupsPerDimension;
  const y = ceilDiv(Math.max(1, groups), max);
  return [ceilDiv(Math.max(1, groups), y), y];
}

export function asBinding(b: GPUBuffer | Binding): Binding {
  return "buffer" in b ? b : { buffer: b };
}

/** Bytes a binding covers: its size, or the rest of its buffer after the offset. */
export function bindingBytes(b: GPUBuffer | Binding): number {
  const binding = asBinding(b);
  return binding.size ?? binding.buffer.size - (binding.offset ?? 0);
}

/** Throws unless the binding holds `words` 4-byte elements and fits in one storage binding. */
export function requireWords(ctx: GpuContext, kernel: string, name: string, b: GPUBuffer | Binding, words: number) {
  const have = bindingBytes(b);
  if (have < words * 4) {
    throw new SkiffError("bad-shape", `${kernel}: ${name} holds ${have} bytes, needs ${words} x 4 = ${words * 4}`);
  }
  if (words * 4 > ctx.bindingLimit) {
    throw new SkiffError(
      "too-big-for-device",
      `${kernel}: ${name} needs ${words * 4} bytes in one binding, over this device's ${ctx.bindingLimit}`,
    );
  }
}

/** True when two bindings share bytes of one buffer (WebGPU forbids a writable binding aliasing another). */
export function overlaps(a: GPUBuffer | Binding, b: GPUBuffer | Binding): boolean {
  const x = asBinding(a);
  const y = asBinding(b);
  if (x.buffer !== y.buffer) return false;
  const x0 = x.offset ?? 0;
  const y0 = y.offset ?? 0;
  return x0 < y0 + bindingBytes(y) && y0 < x0 + bindingBytes(x);
}

/** True when two bindings are the same bytes of the same buffer. */
export function sameRange(a: GPUBuffer | Binding, b: GPUBuffer | Binding): boolean {
  const x = asBinding(a);
  const y = asBinding(b);
  return x.buffer === y.buffer && (x.offset ?? 0) === (y.offset ?? 0) && bindingBytes(x) === bindingBytes(y);
}

export function requireCount(kernel: string, name: string, value: number, min = 1): void {
  if (!(Number.isInteger(value) && value >= min)) {
    throw new SkiffError("bad-shape", `${kernel}: ${name}=${value} must be an integer >= ${min}`);
  }
}

/**
 * Workgroup size of the one-workgroup-per-row reductions (argmax, sample): 256 on GPUs; on CPU adapters one
 * SIMD group's worth (4), because SwiftShader pays for every barrier per 4 invocations (measured ~50x faster
 * at a 10-token vocabulary, the same at 128k). `requested` overrides it: a power of two in [4, 256].
 */
export function rowWorkgroupSize(ctx: GpuContext, kernel: string, requested?: number): number {
  const size = requested ?? (ctx.isCpuAdapter ? 4 : 256);
  const max = Math.min(256, ctx.limits.maxComputeInvocationsPerWorkgroup ?? 256);
  if (!(Number.isInteger(size) && size >= 4 && size <= max && (size & (size - 1)) === 0)) {
    throw new SkiffError("bad-argument", `${kernel}: workgroupSize=${size} must be a power of two in [4, ${max}]`);
  }
  return size;
}

/** Throws a bad-shape SkiffError unless `b` holds at least `bytes`; `what` names the operand and its shape. */
export function requireBytes(op: string, what: string, b: GPUBuffer | Binding, bytes: number): void {
  const have = bindingBytes(b);
  if (have < bytes) throw new SkiffError("bad-shape", `${op}: ${what} needs ${bytes} bytes, the binding holds ${have}`);
}

// GPU core in the browser: features and limits, compile errors that name the kernel, device loss as an
// event, pooled buffers, readback and the profiler.
import { describe, expect, test } from "vitest";
import { createGpuContext } from "./device.ts";
import { readF32, uploadBuffer } from "./readback.ts";
import { timeDispatches } from "./profiler.ts";
import { SkiffError } from "../errors.ts";
import { rmsNorm } from "../kernels/rms-norm.ts";
import { defineKernel, prepareKernel } from "../kernels/dispatch.ts";

describe("gpu core", () => {
  test("requests the adapter's largest limits and reports features", async () => {
    const ctx = await createGpuContext();
    const adapter = (await navigator.gpu.requestAdapter())!;
    expect(ctx.limits.maxStorageBufferBindingSize).toBe(adapter.limits.maxStorageBufferBindingSize);
    expect(ctx.limits.maxComputeWorkgroupStorageSize).toBe(adapter.limits.maxComputeWorkgroupStorageSize);
    expect(ctx.features.subgroups).toBe(adapter.features.has("subgroups"));
    expect(ctx.features.shaderF16).toBe(adapter.features.has("shader-f16"));
    expect(ctx.features.timestampQuery).toBe(adapter.features.has("timestamp-query"));
    const off = await createGpuContext({ disableFeatures: { subgroups: true } });
    expect(off.features.subgroups).toBe(false);
    expect(off.device.features.has("subgroups")).toBe(false);
  });

  test("a shader that fails to compile names the kernel and the compiler's message", async () => {
    const ctx = await createGpuContext();
    const broken = defineKernel(
      "broken-kernel",
      "struct Params { n: u32, }\n@compute @workgroup_size(1) fn main() { let x: u32 = nope; }",
      [["n", "u32"]] as const,
    );
    const attempt = prepareKernel({ ctx, kernel: broken, bindings: [], params: { n: 1 }, workgroups: [1] });
    await expect(attempt).rejects.toThrow(SkiffError);
    await expect(attempt).rejects.toThrow(/broken-kernel.*nope/);
  });

  test("device loss arrives as a 'lost' event carrying a SkiffError", async () => {
    const ctx = await createGpuContext();
    const lost = new Promise<SkiffError>((resolve) =>
      ctx.events.addEventListener("lost", (e) => resolve((e as CustomEvent<SkiffError>).detail)),
    );
    ctx.device.destroy();
    const error = await lost;
    expect(error.code).toBe("device-lost");
    expect(error.message).toMatch(/device was lost/);
    expect(ctx.lost).toBe(true);
  });

  test("buffer pool reuses released buffers by size class", async () => {
    const ctx = await createGpuContext();
    const a = ctx.pool.acquire(1000);
    ctx.pool.release(a);
    const b = ctx.pool.acquire(900);
    expect(b).toBe(a);
    const c = ctx.pool.acquire(5000);
    expect(c.size).toBe(8192);
    ctx.pool.release(b);
    ctx.pool.release(c);
    ctx.pool.trim();
    expect(ctx.pool.bytes).toBe(0);
  });

  test("readback returns what was uploaded, and the profiler times a kernel", async () => {
    const ctx = await createGpuContext();
    const data = new Float32Array([1, 2, 3, 4, 5]);
    const buffer = uploadBuffer(ctx.device, data);
    expect(Array.from(await readF32(ctx.device, buffer, 4, 3))).toEqual([2, 3, 4]);
    const x = uploadBuffer(ctx.device, new Float32Array(4096).fill(1));
    const k = await rmsNorm(ctx, { x, weight: x, out: x, rows: 4, dim: 1024, eps: 1e-5 });
    const t = await timeDispatches(ctx, k.dispatches, { warmup: 1, runs: 3 });
    expect(t.samplesMs).toHaveLength(3);
    expect(t.medianMs).toBeGreaterThan(0);
    expect(["timestamp", "wall"]).toContain(t.source);
    // Launcher objects are cached: a second prepare reuses the pipeline.
    const before = ctx.pipelines.size;
    await rmsNorm(ctx, { x, weight: x, out: x, rows: 4, dim: 1024, eps: 1e-5 });
    expect(ctx.pipelines.size).toBe(before);
  });
});

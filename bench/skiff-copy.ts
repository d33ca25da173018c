// The device's own bandwidth: Skiff's vec4 copy shader over one large buffer, timed like every other contender.
import type { GpuContext } from "../src/gpu/device.ts";
import { copyVec4 } from "../src/kernels/copy-vec4.ts";
import { timeSkiff } from "./skiff-timing.ts";
import { errorText } from "./timing.ts";
import type { CopyResult, RunBudget } from "./types.ts";

export async function benchCopy(ctx: GpuContext, bytes: number, budget: RunBudget): Promise<CopyResult> {
  const result: CopyResult = { bytes, movedBytes: 2 * bytes };
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
  const x = ctx.device.createBuffer({ label: "bench.copy.x", size: bytes, usage });
  const out = ctx.device.createBuffer({ label: "bench.copy.out", size: bytes, usage });
  try {
    const k = await copyVec4(ctx, { x, out, count: bytes / 16 });
    const t = await timeSkiff(ctx, k.dispatches, budget);
    result.wall = t.wall;
    result.gpu = t.gpu;
    result.gbps = result.movedBytes / t.wall.medianMs / 1e6;
    result.gpuGbps = result.movedBytes / t.gpu.medianMs / 1e6;
  } catch (e) {
    result.error = errorText(e);
  } finally {
    x.destroy();
    out.destroy();
  }
  return result;
}

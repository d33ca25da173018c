// Times compute passes with timestamp queries where the device has them, else with the wall clock
// around a submit (which then includes submit and wait overhead; the result says which it used).
import type { GpuContext } from "./device.ts";
import { encodeDispatches, type Dispatch } from "../kernels/dispatch.ts";

export interface Timing {
  /** Median milliseconds per run. */
  medianMs: number;
  samplesMs: number[];
  source: "timestamp" | "wall";
}

export async function timeDispatches(
  ctx: GpuContext,
  dispatches: Dispatch[],
  options: { warmup?: number; runs?: number; repeatsPerRun?: number } = {},
): Promise<Timing> {
  const { warmup = 1, runs = 5, repeatsPerRun = 1 } = options;
  const { device } = ctx;
  const useTimestamps = ctx.features.timestampQuery;
  const querySet = useTimestamps ? device.createQuerySet({ type: "timestamp", count: 2 }) : undefined;
  const resolve = useTimestamps
    ? device.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC })
    : undefined;
  const read = useTimestamps
    ? device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST })
    : undefined;
  const samples: number[] = [];
  let timestamped = 0;
  for (let i = 0; i < warmup + runs; i++) {
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass(
      querySet ? { timestampWrites: { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : undefined,
    );
    for (let r = 0; r < repeatsPerRun; r++) encodeDispatches(pass, dispatches);
    pass.end();
    if (querySet && resolve && read) {
      encoder.resolveQuerySet(querySet, 0, 2, resolve, 0);
      encoder.copyBufferToBuffer(resolve, 0, read, 0, 16);
    }
    const t0 = performance.now();
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
    const wall = performance.now() - t0;
    let ms = wall;
    if (read) {
      await read.mapAsync(GPUMapMode.READ);
      const [begin, end] = new BigInt64Array(read.getMappedRange());
      read.unmap();
      const gpuMs = Number(end - begin) / 1e6;
      // Some implementations report zeros or quantized values; fall back to the wall clock then.
      if (gpuMs > 0) {
        ms = gpuMs;
        timestamped++;
      }
    }
    if (i >= warmup) samples.push(ms / repeatsPerRun);
  }
  querySet?.destroy();
  resolve?.destroy();
  read?.destroy();
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    medianMs: sorted[Math.floor(sorted.length / 2)],
    samplesMs: samples,
    source: timestamped === warmup + runs ? "timestamp" : "wall",
  };
}

// Times prepared Skiff dispatches two ways: the wall clock around submit + wait (the method every contender shares)
// and GPU timestamps around the compute pass (src/gpu/profiler.ts), where the device has them.
import type { GpuContext } from "../src/gpu/device.ts";
import { timeDispatches } from "../src/gpu/profiler.ts";
import { runDispatches, type Dispatch } from "../src/kernels/dispatch.ts";
import { stats, timeWall, timestampRuns } from "./timing.ts";
import type { RunBudget, TimingStats } from "./types.ts";

export interface SkiffTiming {
  wall: TimingStats;
  gpu: TimingStats & { source: "timestamp" | "wall" };
}

export const SKIFF_TIMED =
  "one command buffer with one compute pass holding the op's dispatches, submit + queue.onSubmittedWorkDone(); " +
  "weights, inputs and outputs resident on the GPU";

export async function timeSkiff(ctx: GpuContext, dispatches: Dispatch[], budget: RunBudget): Promise<SkiffTiming> {
  const wall = await timeWall(() => runDispatches(ctx, dispatches), budget);
  const t = await timeDispatches(ctx, dispatches, { warmup: 0, runs: timestampRuns(wall, budget) });
  return { wall, gpu: { ...stats(t.samplesMs), source: t.source } };
}

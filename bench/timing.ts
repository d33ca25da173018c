// Wall-clock timing of one GPU step (submit + wait for the queue) with an adaptive run count, so slow cases on a
// CPU adapter take a few runs and fast ones many.
import type { RunBudget, TimingStats } from "./types.ts";

export function stats(samplesMs: number[]): TimingStats {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const medianMs = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { medianMs, minMs: sorted[0], samplesMs };
}

export function resolveBudget(base: RunBudget, override?: Partial<RunBudget>): RunBudget {
  return { ...base, ...override };
}

/**
 * Runs `step` `warmup` times untimed, then times it until `runs` samples or `budgetMs` is spent (at least minRuns).
 * A warm-up slower than `slowMs` is kept as the only sample: at seconds per run, compiling is a small part of it,
 * and the whole benchmark must fit a few minutes on a CPU adapter.
 */
export async function timeWall(step: () => Promise<void>, budget: RunBudget): Promise<TimingStats> {
  let last = 0;
  for (let i = 0; i < budget.warmup; i++) {
    const t0 = performance.now();
    await step();
    last = performance.now() - t0;
  }
  if (budget.warmup > 0 && last > budget.slowMs) return { ...stats([last]), warmupCounted: true };
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < budget.runs) {
    const t0 = performance.now();
    await step();
    samples.push(performance.now() - t0);
    const spent = performance.now() - start;
    if (samples.length >= budget.minRuns && spent >= budget.budgetMs) break;
  }
  return stats(samples);
}

/** Runs for the timestamp pass that follows a wall-clock pass of the same kernel: no more than the wall pass took,
 *  what fits half the budget, and at least `least`. */
export function timestampRuns(wall: TimingStats, budget: RunBudget, least = 1): number {
  const fit = Math.floor(budget.budgetMs / 2 / Math.max(wall.medianMs, 1e-3));
  return Math.max(least, Math.min(wall.samplesMs.length, fit));
}

export function errorText(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

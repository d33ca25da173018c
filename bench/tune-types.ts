// The tuning benchmark's results (bench/tune-main.ts writes them, bench/tune-report.ts renders them).
import type { TuneRecord } from "../src/kernels/tuning.ts";

export interface TuneCaseResult {
  id: string;
  title: string;
  /** Load with tuning skipped (stored choices or the adapter's default), on a fresh device. */
  loadSkipMs?: number;
  /** First load with tuning on a fresh device and an empty tuning store: what a user's first visit costs. */
  loadFirstMs?: number;
  /** Time the first load spent measuring, and how many op shapes it measured. */
  tuningMs?: number;
  measured?: number;
  /** A later load with the stored choices. */
  loadLaterMs?: number;
  laterMeasured?: number;
  /** The first load's measurements and the choice it made per op and shape (measured or not). */
  first?: TuneRecord[];
  choices?: Record<string, string>;
  /** An independent re-measurement of every candidate of every style, with more runs. */
  check?: TuneRecord[];
  error?: string;
}

export interface TuneBenchResults {
  date: string;
  adapter?: Record<string, unknown>;
  userAgent: string;
  cases: TuneCaseResult[];
  fatal?: string;
}

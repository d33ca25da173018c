// Kernel variants chosen per op and shape: by a setting, by a stored choice, by timing the candidates on this
// device (during a model's load), or by the adapter's default. Launchers of the hot ops (GEMV, GEMM, attention)
// call `tunedKernel` with their candidate list; everything else about a variant stays inside the launcher.
//
// Why on the user's device: SwiftShader runs the barrier-free kernels ~6x faster than the cooperative ones and real
// GPUs the other way round (design.md "Measuring"), and within a style the best workgroup size differs by GPU.
import type { GpuContext } from "../gpu/device.ts";
import { timeDispatches } from "../gpu/profiler.ts";
import { SkiffError } from "../errors.ts";
import type { Dispatch } from "./dispatch.ts";

/** "rowwise": barrier-free, one invocation per output row(s); "cooperative": a workgroup shares the work of a row. */
export type KernelStyle = "rowwise" | "cooperative";

export const KERNEL_STYLES: readonly KernelStyle[] = ["rowwise", "cooperative"];

export interface KernelChoice {
  variant: KernelStyle;
  /** Invocations per workgroup, where the op has it as a parameter. */
  workgroupSize?: number;
  /** N:M sparse weights only: the dense kernels on the weight expanded to dense planes, for where they beat the
   *  sparse ones (src/kernels/sparse-matmul.ts). */
  weights?: "dense";
}

export interface CandidateTime {
  choice: KernelChoice;
  /** Median ms over `runs` (one when cut off for being far slower than the best); null when it failed to prepare. */
  ms: number | null;
  runs: number;
}

export interface TuneRecord {
  /** Op and shape, e.g. "gemv:q4_0:768x2048". */
  key: string;
  candidates: CandidateTime[];
  chosen: KernelChoice;
  /** Wall time the measuring took, compilation included. */
  elapsedMs: number;
}

/** How `tunedKernel` picks; lives on the GpuContext, so every launcher sees the same choices. */
export class KernelTuner {
  /** Choices by op-and-shape key: stored ones loaded before a model's steps are made, measured ones added. */
  readonly choices = new Map<string, KernelChoice>();
  /** Time unknown keys (set by the engine while it makes a model's steps at load; off otherwise). */
  measuring = false;
  /** Styles worth timing. A CPU adapter compiles a pipeline in about a second and runs the cooperative style 4 to
   *  100 times slower (bench/results/tune-*.md), so the engine narrows it to the barrier-free one by default. */
  styles: readonly KernelStyle[] = KERNEL_STYLES;
  /** One style for every op, whatever was stored or measured (a setting, for tests and bug reports). */
  force?: KernelStyle;
  /** Wall-clock budget of measuring; keys met after it is spent get the default, stored as if measured. */
  budgetMs = 4000;
  /** Timed runs per candidate after one warm-up (the first timed run alone decides a cut-off). */
  runs = 3;
  /** A candidate whose first run is this many times the best so far is not run again, and is not timed at all on
   *  the op's other shapes (a 100x slower kernel on a 32000-row output matrix would take seconds per run). */
  cutoff = 3;
  spentMs = 0;
  readonly records: TuneRecord[] = [];
  /** Keys picked without timing: one candidate worth it, or the budget spent (then the default). Stored too, so a
   *  later load does not come back to them. */
  readonly unmeasured = new Map<string, KernelChoice>();
  /** What each key was last prepared with, however it was picked (the engine reports this after a load). */
  readonly used = new Map<string, KernelChoice>();
  /** Candidates cut off per op family (the key without its shape): "gemv:q4_0" -> ["cooperative/256"]. */
  readonly losers = new Map<string, Set<string>>();
  /** The choice at an op family's first measured shape; later shapes keep it unless another is more than `noise`
   *  faster. */
  readonly familyChoice = new Map<string, KernelChoice>();
  noise = 0.1;
  onRecord?: (r: TuneRecord) => void;
}

/** Attention (decode and prefill) has no workgroup-size parameter worth tuning: its tiles follow the head size. */
export const ATTENTION_CANDIDATES: readonly KernelChoice[] = [{ variant: "rowwise" }, { variant: "cooperative" }];

export function choiceName(c: KernelChoice): string {
  const name = c.workgroupSize ? `${c.variant}/${c.workgroupSize}` : c.variant;
  return c.weights === "dense" ? `${name}+dense` : name;
}

/** choiceName's inverse: "rowwise/64+dense" -> { variant: "rowwise", workgroupSize: 64, weights: "dense" }. */
export function parseChoiceName(name: string): KernelChoice {
  const m = /^(rowwise|cooperative)(?:\/(\d+))?(\+dense)?$/.exec(name);
  if (!m) throw new SkiffError("bad-argument", `"${name}" is not a kernel choice`);
  const choice: KernelChoice = { variant: m[1] as KernelStyle };
  if (m[2]) choice.workgroupSize = Number(m[2]);
  if (m[3]) choice.weights = "dense";
  return choice;
}

export function sameChoice(a: KernelChoice, b: KernelChoice): boolean {
  return choiceName(a) === choiceName(b);
}

/** The style an adapter gets without tuning: barrier-free on CPU implementations, cooperative on GPUs. */
export function defaultStyle(ctx: GpuContext): KernelStyle {
  return ctx.isCpuAdapter ? "rowwise" : "cooperative";
}

/** A launcher's part of picking: the key, the candidates (defaults of each style first) and what the caller set. */
export interface TunableOp<K> {
  key: string;
  candidates: readonly KernelChoice[];
  /** Explicit choice from the launcher's arguments (wins over everything). */
  requested?: Partial<KernelChoice>;
  prepare(choice: KernelChoice): Promise<K>;
  /** Moves the kernel to a representative workload for timing and back (e.g. attention at a mid-context position). */
  timing?: { before(kernel: K): void; after(kernel: K): void };
}

/** Prepares the kernel of the choice that the setting, the stored choices, a measurement or the default gives. */
export async function tunedKernel<K extends { dispatches: Dispatch[] }>(ctx: GpuContext, op: TunableOp<K>): Promise<K> {
  const tuner = ctx.tuner;
  const { requested } = op;
  const prepare = (choice: KernelChoice): Promise<K> => {
    tuner.used.set(op.key, choice);
    return op.prepare(choice);
  };
  if (requested?.variant) return prepare(findCandidate(op, requested.variant, requested.workgroupSize));
  if (tuner.force) return prepare(findCandidate(op, tuner.force));
  const stored = tuner.choices.get(op.key);
  const known = stored && op.candidates.find((c) => sameChoice(c, stored));
  if (known) return prepare(known);
  const fallback = findCandidate(op, defaultStyle(ctx));
  if (!tuner.measuring) return prepare(fallback);
  const family = op.key.slice(0, op.key.lastIndexOf(":"));
  const losers = tuner.losers.get(family);
  const worth = op.candidates.filter((c) => tuner.styles.includes(c.variant) && !losers?.has(choiceName(c)));
  if (worth.length <= 1 || tuner.spentMs >= tuner.budgetMs) {
    // Budget spent: what the op's other shapes chose (one pipeline fewer, and measured here), else the default.
    const incumbent = tuner.familyChoice.get(family);
    const known = incumbent && op.candidates.find((c) => sameChoice(c, incumbent));
    const choice = worth.length === 1 && tuner.spentMs < tuner.budgetMs ? worth[0] : (known ?? fallback);
    tuner.unmeasured.set(op.key, choice);
    tuner.choices.set(op.key, choice);
    return prepare(choice);
  }
  const { kernel, choice } = await measure(ctx, { ...op, candidates: worth }, family);
  tuner.used.set(op.key, choice);
  return kernel;
}

function findCandidate<K>(op: TunableOp<K>, variant: KernelStyle, workgroupSize?: number): KernelChoice {
  const match = op.candidates.find(
    (c) => c.variant === variant && (workgroupSize === undefined || c.workgroupSize === workgroupSize),
  );
  if (!match) {
    const names = op.candidates.map(choiceName).join(", ");
    const asked = choiceName({ variant, workgroupSize });
    throw new SkiffError("bad-argument", `${op.key}: no variant "${asked}" (candidates: ${names})`);
  }
  return match;
}

async function measure<K extends { dispatches: Dispatch[] }>(
  ctx: GpuContext,
  op: TunableOp<K>,
  family: string,
): Promise<{ kernel: K; choice: KernelChoice }> {
  const tuner = ctx.tuner;
  const started = performance.now();
  const times: CandidateTime[] = [];
  let best: { kernel: K; choice: KernelChoice; ms: number } | undefined;
  const incumbent = tuner.familyChoice.get(family);
  let kept: typeof best;
  // Prepared all at once: pipeline compilation (the bulk of tuning's cost on a CPU adapter) then overlaps.
  const prepared = await Promise.allSettled(op.candidates.map((choice) => op.prepare(choice)));
  for (const [i, choice] of op.candidates.entries()) {
    const outcome = prepared[i];
    if (outcome.status === "rejected") {
      // A variant this device cannot run at this shape (e.g. a workgroup over its limits) is simply not a candidate.
      if (!(outcome.reason instanceof SkiffError)) throw outcome.reason;
      times.push({ choice, ms: null, runs: 0 });
      continue;
    }
    const kernel = outcome.value;
    op.timing?.before(kernel);
    const first = await timeDispatches(ctx, kernel.dispatches, { warmup: 1, runs: 1 });
    let ms = first.medianMs;
    let runs = 1;
    if (!best || ms < best.ms * tuner.cutoff) {
      const rest = await timeDispatches(ctx, kernel.dispatches, { warmup: 0, runs: tuner.runs });
      ms = median([...first.samplesMs, ...rest.samplesMs]);
      runs += tuner.runs;
    }
    op.timing?.after(kernel);
    times.push({ choice, ms, runs });
    if (!best || ms < best.ms) best = { kernel, choice, ms };
    if (incumbent && sameChoice(choice, incumbent)) kept = { kernel, choice, ms };
  }
  // Within noise of the best, the variant the family already runs wins: one pipeline fewer to compile on every load.
  if (best && kept && kept.ms <= best.ms * (1 + tuner.noise)) best = kept;
  const elapsedMs = performance.now() - started;
  tuner.spentMs += elapsedMs;
  if (!best) throw new SkiffError("bad-shape", `${op.key}: no variant of this op can run on this device`);
  tuner.choices.set(op.key, best.choice);
  if (!incumbent) tuner.familyChoice.set(family, best.choice);
  const winner = Math.min(...times.map((t) => t.ms ?? Infinity));
  const losers = tuner.losers.get(family) ?? new Set<string>();
  for (const t of times) if (t.ms !== null && t.ms >= winner * tuner.cutoff) losers.add(choiceName(t.choice));
  tuner.losers.set(family, losers);
  const record: TuneRecord = { key: op.key, candidates: times, chosen: best.choice, elapsedMs };
  tuner.records.push(record);
  tuner.onRecord?.(record);
  return best;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

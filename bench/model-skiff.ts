// Skiff in the model benchmark: the Engine end to end (import, load, warm-up, one greedy generation), then a
// per-kernel breakdown of one decode step built the way the engine builds it, on a device of its own.
import { Engine } from "../src/engine/engine.ts";
import { loadGpuModel, planMemory, releaseUnusedSparse } from "../src/engine/gpu-model.ts";
import { parseChoiceName } from "../src/kernels/tuning.ts";
import { createGpuContext, type GpuContext } from "../src/gpu/device.ts";
import { timeDispatches } from "../src/gpu/profiler.ts";
import { prepareStep } from "../src/graph/executor.ts";
import { opTable } from "../src/kernels/index.ts";
import { buildLlamaStep } from "../src/models/llama.ts";
import { ModelStore } from "../src/storage/model-store.ts";
import type { LlamaManifest } from "../src/storage/import-gguf.ts";
import { runDispatches } from "../src/kernels/dispatch.ts";
import { errorText, timeWall } from "./timing.ts";
import type { BreakdownGroup, DecodeBreakdown, GenerationRun, ModelSpec, SkiffResult } from "./model-types.ts";

/** The engine's default; the warm-up prompt is cut to the chunk shapes the measured prompt uses. */
const PREFILL_CHUNK = 32;

/**
 * A prompt as short as possible that still makes every prefill step shape of an n-token prompt: the engine
 * prefills n - 1 tokens in chunks (full ones and one remainder), then runs the last token as a decode step.
 */
export function warmupLength(n: number, chunk: number): number {
  const prefill = n - 1;
  if (prefill <= chunk) return n;
  const rest = prefill % chunk;
  return rest === 0 ? chunk + 1 : chunk + rest + 1;
}

export interface SkiffModelRun {
  result: SkiffResult;
  /** Kept in the page's store for the decode breakdown; removed by `dropStored`. */
  stored?: { store: ModelStore; manifest: LlamaManifest };
}

export async function benchSkiffModel(
  bytes: Uint8Array,
  name: string,
  prompt: number[],
  spec: ModelSpec,
  log: (line: string) => void,
): Promise<SkiffModelRun> {
  const storePrefix = `skiff-bench-model-${Date.now()}`;
  const engine = new Engine({ storePrefix, prefillChunk: PREFILL_CHUNK });
  const result: SkiffResult = { name: "Skiff", prefillChunk: PREFILL_CHUNK, setupMs: {} };
  const store = new ModelStore(storePrefix);
  let manifest: LlamaManifest | undefined;
  try {
    let t = performance.now();
    const info = await engine.importModel(new Blob([bytes as BlobPart]), { name });
    result.setupMs!.import = performance.now() - t;
    manifest = (await store.manifest(info.id)) as LlamaManifest;
    t = performance.now();
    const loaded = await engine.load(info.id, { contextLength: spec.contextLength });
    result.setupMs!.load = performance.now() - t;
    result.gpuBytes = loaded.gpuBytes;
    const plan = planMemory(manifest, loaded.contextLength);
    result.weightBytes = plan.weights;
    result.kvBytes = plan.kv;
    result.tuning = { measured: loaded.tuning.measured, ms: loaded.tuning.ms, choices: loaded.tuning.choices };
    log(`  Skiff: imported in ${ms(result.setupMs!.import)}, loaded in ${ms(result.setupMs!.load)}`);
    const sparse = Object.entries(loaded.tuning.choices).filter(([k]) => k.startsWith("sparse-"));
    if (sparse.length) log(`  Skiff sparse ops: ${sparse.map(([k, v]) => `${k} ${v}`).join(", ")}`);
    const settings = { temperature: 0, stopAtEos: false };
    t = performance.now();
    await engine.generate(prompt.slice(0, warmupLength(prompt.length, PREFILL_CHUNK)), { ...settings, maxTokens: 2 });
    result.setupMs!.warmup = performance.now() - t;
    t = performance.now();
    const g = await engine.generate(prompt, { ...settings, maxTokens: spec.generate });
    const run: GenerationRun = { ...g.stats, totalMs: performance.now() - t, text: g.text };
    result.run = run;
    result.tokenIds = g.tokenIds;
    log(`  Skiff: ${describeRun(run)}`);
  } catch (e) {
    result.error = errorText(e);
    log(`  Skiff failed: ${result.error}`);
  } finally {
    engine.dispose();
  }
  return { result, stored: manifest && { store, manifest } };
}

export async function dropStored(stored: SkiffModelRun["stored"]): Promise<void> {
  if (stored) await stored.store.remove(stored.manifest.id);
}

/**
 * Times one greedy decode step at `position`: the whole step in one pass, then each node's dispatches in a pass
 * of their own (GPU timestamps where the device has them). The step is built with the same graph builder, executor
 * and op table as the engine's, on a model loaded from the same store.
 */
export async function decodeBreakdown(
  stored: NonNullable<SkiffModelRun["stored"]>,
  spec: ModelSpec,
  position: number,
  choices: Record<string, string> = {},
): Promise<DecodeBreakdown> {
  let ctx: GpuContext | undefined;
  const owned: { destroy(): void }[] = [];
  try {
    ctx = await createGpuContext();
    // The kernels the engine's load chose (tuning), so the breakdown times what the measured decode ran.
    for (const [key, name] of Object.entries(choices)) ctx.tuner.choices.set(key, parseChoiceName(name));
    const gpu = await loadGpuModel(ctx, stored.store, stored.manifest, {
      contextLength: spec.contextLength,
      prefillChunk: PREFILL_CHUNK,
    });
    owned.push(gpu);
    const graph = buildLlamaStep(stored.manifest.config, {
      kind: "decode",
      nTokens: 1,
      capacity: gpu.capacity,
      sampler: "argmax",
    });
    const step = await prepareStep(ctx, graph, gpu.resources, opTable, "bench-decode");
    owned.push(step);
    releaseUnusedSparse(gpu);
    step.setPosition(position);
    const runs = { warmup: spec.breakdown.warmup, runs: spec.breakdown.runs };
    const whole = await timeDispatches(ctx, step.dispatches, runs);
    const device = ctx;
    const wall = await timeWall(() => runDispatches(device, step.dispatches), {
      ...runs,
      minRuns: runs.runs,
      budgetMs: 0,
      slowMs: Infinity,
    });
    const nodes: DecodeBreakdown["nodes"] = [];
    const groups = new Map<string, BreakdownGroup>();
    let source = whole.source;
    for (const node of graph.nodes) {
      const dispatches = step.kernel(node.label).dispatches;
      const t = await timeDispatches(ctx, dispatches, runs);
      if (t.source === "wall") source = "wall";
      // The classifier is one matmul as big as four layers' worth: it gets a row of its own.
      const op = node.label === "output" ? "matmul (output)" : node.op;
      nodes.push({ label: node.label, op, ms: t.medianMs });
      const g = groups.get(op) ?? { op, nodes: 0, dispatches: 0, ms: 0, share: 0 };
      g.nodes++;
      g.dispatches += dispatches.length;
      g.ms += t.medianMs;
      groups.set(op, g);
    }
    const kernelSumMs = nodes.reduce((s, n) => s + n.ms, 0);
    for (const g of groups.values()) g.share = g.ms / kernelSumMs;
    return {
      position,
      source,
      stepMs: whole.medianMs,
      stepWallMs: wall.medianMs,
      kernelSumMs,
      overhead: whole.medianMs / kernelSumMs,
      groups: [...groups.values()].sort((a, b) => b.ms - a.ms),
      nodes,
    };
  } finally {
    owned.reverse().forEach((x) => x.destroy());
    ctx?.device.destroy();
  }
}

export function describeRun(r: GenerationRun): string {
  return (
    `${r.promptTokens} prompt tokens, TTFT ${ms(r.timeToFirstTokenMs)} (${r.prefillTokensPerSecond.toFixed(1)} tok/s), ` +
    `${r.generatedTokens} tokens at ${r.decodeTokensPerSecond.toFixed(2)} tok/s, ${ms(r.totalMs)} in all`
  );
}

function ms(v: number | undefined): string {
  return v === undefined ? "?" : v >= 1000 ? `${(v / 1000).toFixed(1)} s` : `${v.toFixed(0)} ms`;
}

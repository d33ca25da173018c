// The kernel tuning benchmark page: for each case of bench/model-cases.json (the 110M-parameter shape), imports a
// synthetic GGUF and loads it three times through the Engine on fresh devices: with tuning skipped, with tuning
// (first visit: empty tuning store), and again (later visit: stored choices). Then it re-times every candidate of
// every op, of every style, with more runs, independently of the first measurement, so the report can say how far
// each choice is from the fastest variant of that run. Posts window.__benchResults for bench/run-tune.mjs.
import casesJson from "./model-cases.json";
import { Engine } from "../src/engine/engine.ts";
import { createGpuContext } from "../src/gpu/device.ts";
import { syntheticLlamaGguf } from "../src/loaders/synthetic-model.ts";
import { errorText } from "./timing.ts";
import type { ModelSpec } from "./model-types.ts";
import type { TuneBenchResults, TuneCaseResult } from "./tune-types.ts";

const CHECK_RUNS = 9;

function log(line: string): void {
  console.log(`[bench] ${line}`);
  document.getElementById("log")?.append(`${line}\n`);
}

const query = new URLSearchParams(location.search);

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const value = await f();
  return [value, performance.now() - t];
}

async function runCase(spec: ModelSpec, c: ModelSpec["cases"][number]): Promise<TuneCaseResult> {
  const s = spec.shape;
  const title = `${c.type.toUpperCase()}, dim ${s.dim}, ${s.nLayers} layers, ${s.nHeads}/${c.nKvHeads} heads (q/kv)`;
  const result: TuneCaseResult = { id: c.id, title };
  log(`${c.id}: ${title}`);
  const storePrefix = `skiff-bench-tune-${Date.now()}`;
  const engines: Engine[] = [];
  // Each Engine makes its own device, so every load compiles its pipelines afresh, as on a new visit.
  const engine = () => {
    const e = new Engine({ storePrefix });
    engines.push(e);
    return e;
  };
  try {
    const bytes = syntheticLlamaGguf({ ...s, nKvHeads: c.nKvHeads, type: c.type, seed: c.seed });
    const { id } = await engine().importModel(new Blob([bytes as BlobPart]), { name: `${c.id}.gguf` });
    const load = { contextLength: spec.contextLength };
    [, result.loadSkipMs] = await timed(() => engine().load(id, { ...load, tuning: "skip" }));
    log(`  load, tuning skipped: ${(result.loadSkipMs / 1000).toFixed(2)} s`);
    const [first, firstMs] = await timed(() => engine().load(id, load));
    Object.assign(result, { loadFirstMs: firstMs, tuningMs: first.tuning.ms, measured: first.tuning.measured });
    result.first = first.tuning.records;
    result.choices = first.tuning.choices;
    log(`  first load: ${(firstMs / 1000).toFixed(2)} s, of which tuning ${(first.tuning.ms / 1000).toFixed(2)} s`);
    const [later, laterMs] = await timed(() => engine().load(id, load));
    Object.assign(result, { loadLaterMs: laterMs, laterMeasured: later.tuning.measured });
    log(`  later load: ${(laterMs / 1000).toFixed(2)} s, ${later.tuning.measured} ops measured`);
    const check = await engines[engines.length - 1].load(id, {
      ...load,
      tuning: "retune",
      tuningCandidates: "all",
      tuningRuns: CHECK_RUNS,
      tuningBudgetMs: Infinity,
    });
    result.check = check.tuning.records;
  } catch (e) {
    result.error = errorText(e);
    log(`  failed: ${result.error}`);
  } finally {
    for (const e of engines) e.dispose();
  }
  return result;
}

async function main(): Promise<void> {
  const results: TuneBenchResults = {
    date: new Date().toISOString().slice(0, 10),
    userAgent: navigator.userAgent,
    cases: [],
  };
  try {
    const ctx = await createGpuContext();
    results.adapter = { ...ctx.adapterInfo, isCpuAdapter: ctx.isCpuAdapter };
    ctx.device.destroy();
    const spec = structuredClone(casesJson) as ModelSpec;
    const only = query.get("cases")?.split(",") ?? [spec.cases[0].id];
    for (const c of spec.cases.filter((c) => only.includes(c.id))) results.cases.push(await runCase(spec, c));
  } catch (e) {
    results.fatal = errorText(e);
  }
  (window as unknown as { __benchResults: TuneBenchResults }).__benchResults = results;
}

void main();

// The kernel benchmark page: copy-shader bandwidth, then each case of bench/cases.json for Skiff and its peers, all
// in one page and one run; posts everything as window.__benchResults for bench/run-kernels.mjs. Query: quick=1 runs
// cases.json's small "quick" list (copy size, budget and cases), peers=0 runs Skiff alone, cases=a,b only those.
import casesJson from "./cases.json";
import { createGpuContext, type GpuContext } from "../src/gpu/device.ts";
import { rng } from "../src/kernels/testing.ts";
import { benchCopy } from "./skiff-copy.ts";
import { benchSkiffMatmul } from "./skiff-matmul.ts";
import { benchAttention } from "./skiff-attention.ts";
import { benchOrt, loadOrt, ORT_FLAVOURS, type LoadedOrt } from "./peers/ort.ts";
import { benchTfjs, loadTfjs, TFJS_DESCRIPTION } from "./peers/tfjs.ts";
import { addMetrics, caseFlops, caseTitle, computeRatio } from "./metrics.ts";
import { errorText, resolveBudget } from "./timing.ts";
import type {
  BenchCase,
  BenchResults,
  CaseResult,
  CasesFile,
  ContenderResult,
  CopyResult,
  RunBudget,
} from "./types.ts";

/** cases.json also holds a quick list: small shapes and short budgets, for smoke tests of the whole pipeline. */
type CasesJson = CasesFile & { quick: Pick<CasesFile, "defaultBudget" | "copy" | "cases"> };

const query = new URLSearchParams(location.search);
const spec = resolveSpec(casesJson as unknown as CasesJson);
const withPeers = query.get("peers") !== "0";
const SEED = 0x5eed;

declare global {
  interface Window {
    __benchResults?: BenchResults;
  }
}

function resolveSpec(full: CasesJson): CasesFile {
  const { quick, ...rest } = full;
  const spec = query.get("quick") === "1" ? { ...rest, ...quick } : rest;
  // cases=a,b (BENCH_CASES): only those cases, for a run about a few kernels.
  const only = query.get("cases")?.split(",");
  const cases = only ? spec.cases.filter((c) => only.includes(c.id)) : spec.cases;
  const ids = new Set(cases.map((c) => c.id));
  return { ...spec, cases, ratios: rest.ratios.filter((r) => ids.has(r.case)) };
}

function log(line: string): void {
  console.log(`[bench] ${line}`);
  document.getElementById("log")?.append(`${line}\n`);
}

function describe(r: ContenderResult): string {
  if (r.error) return `${r.name}: failed: ${r.error}`;
  const gpu = r.gpu ? `, GPU ${r.gpu.medianMs.toFixed(2)} ms (${r.gpu.source})` : "";
  return `${r.name}: ${r.wall!.medianMs.toFixed(2)} ms wall (n=${r.wall!.samplesMs.length})${gpu}`;
}

interface Peers {
  orts: LoadedOrt[];
  tfjs: boolean;
}

async function loadPeers(results: BenchResults): Promise<Peers> {
  const peers: Peers = { orts: [], tfjs: false };
  for (const id of spec.ortFlavours) {
    try {
      const loaded = await loadOrt(id);
      peers.orts.push(loaded);
      const described = `${ORT_FLAVOURS[id].description}, version ${loaded.ort.env.versions.web ?? "?"}`;
      results.peers.push(described);
      log(`loaded ${described}`);
    } catch (e) {
      results.loadErrors.push({ peer: `onnxruntime-web ${id}`, error: errorText(e) });
      log(`onnxruntime-web ${id} failed to load: ${errorText(e)}`);
    }
  }
  try {
    await loadTfjs();
    peers.tfjs = true;
    results.peers.push(TFJS_DESCRIPTION);
    log(`loaded ${TFJS_DESCRIPTION}`);
  } catch (e) {
    results.loadErrors.push({ peer: TFJS_DESCRIPTION, error: errorText(e) });
  }
  return peers;
}

async function runCase(ctx: GpuContext, c: BenchCase, peers: Peers, copy: CopyResult): Promise<CaseResult> {
  const budget: RunBudget = resolveBudget(spec.defaultBudget, c.budget);
  const random = rng(SEED);
  const result: CaseResult = { id: c.id, title: caseTitle(c), flops: caseFlops(c), contenders: [] };
  const add = (r: ContenderResult) => {
    addMetrics(r, result.flops, copy);
    result.contenders.push(r);
    log(`  ${describe(r)}`);
  };
  log(`${result.title}`);
  if (c.op === "matmul") {
    (await benchSkiffMatmul(ctx, c, budget, random)).forEach(add);
    for (const peer of c.peers) {
      if (peer.kind === "ort") for (const o of peers.orts) add(await benchOrt(o, c, peer, budget, random));
      else if (peers.tfjs) for (const transposeB of [false, true]) add(await benchTfjs(c, transposeB, budget, random));
    }
  } else {
    (await benchAttention(ctx, c, budget, random)).forEach(add);
  }
  return result;
}

async function main(): Promise<BenchResults> {
  const start = performance.now();
  const results: BenchResults = {
    date: new Date().toISOString().slice(0, 10),
    userAgent: navigator.userAgent,
    adapter: { vendor: "", architecture: "", device: "", description: "", isCpuAdapter: false },
    features: { shaderF16: false, subgroups: false, timestampQuery: false },
    method:
      "every contender: wall clock around one submit (or session.run / tf.matMul) + wait for the GPU queue, with " +
      "weights, inputs and outputs resident on the GPU, median of several runs after a warm-up; ratios use these " +
      "medians. Skiff also reports GPU timestamps around its compute pass.",
    copy: { bytes: spec.copy.bytes, movedBytes: 2 * spec.copy.bytes },
    cases: [],
    ratios: [],
    peers: [],
    loadErrors: [],
    durationS: 0,
  };
  try {
    const ctx = await createGpuContext();
    results.adapter = { ...ctx.adapterInfo, isCpuAdapter: ctx.isCpuAdapter };
    results.features = { ...ctx.features };
    log(`adapter: ${JSON.stringify(ctx.adapterInfo)}, features ${JSON.stringify(ctx.features)}`);
    results.copy = await benchCopy(ctx, spec.copy.bytes, resolveBudget(spec.defaultBudget, spec.copy.budget));
    log(`copy: ${results.copy.gbps?.toFixed(2)} GB/s wall, ${results.copy.gpuGbps?.toFixed(2)} GB/s timestamps`);
    const peers: Peers = withPeers ? await loadPeers(results) : { orts: [], tfjs: false };
    for (const c of spec.cases) {
      try {
        results.cases.push(await runCase(ctx, c, peers, results.copy));
      } catch (e) {
        results.cases.push({ id: c.id, title: caseTitle(c), flops: caseFlops(c), contenders: [], error: errorText(e) });
        log(`${c.id} failed: ${errorText(e)}`);
      }
    }
    results.ratios = spec.ratios.map((r) => computeRatio(r, results.cases, results.copy));
  } catch (e) {
    results.fatal = errorText(e);
  }
  results.durationS = (performance.now() - start) / 1000;
  return results;
}

// main() catches everything, so the runner always gets an answer instead of waiting for its timeout.
void main().then((r) => {
  window.__benchResults = r;
});

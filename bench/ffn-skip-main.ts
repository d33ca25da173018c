// The adaptive-compute benchmark page: for each model of ffn-skip-cases.json (stories260K served by the runner, and a
// synthetic model whose middle FFN blocks barely change the residual stream), dense greedy runs over seeded prompts,
// the FFN-skip threshold sweep (bench/ffn-skip-sweep.ts) and speculative decoding per drafter
// (bench/speculative-bench.ts); posts everything as window.__benchResults. Query: quick=1 (4 prompts x 24 tokens),
// models=id,id, parts=sweep,speculative.
import casesJson from "./ffn-skip-cases.json";
import { Engine } from "../src/engine/engine.ts";
import { createGpuContext } from "../src/gpu/device.ts";
import { rng } from "../src/kernels/testing.ts";
import { syntheticLlamaGguf } from "../src/loaders/synthetic-model.ts";
import { scaleFfnDown } from "../src/engine/ffn-skip-testing.ts";
import { referenceWeightsFromGguf } from "../src/reference/gguf-weights.ts";
import { denseRun, knee, sweepPoint } from "./ffn-skip-sweep.ts";
import { speculativePoint } from "./speculative-bench.ts";
import { DEFAULT_FFN_SKIP } from "../src/engine/settings.ts";
import { errorText } from "./timing.ts";
import type { AdaptiveBenchResults, AdaptiveModelCase, AdaptiveModelResult, AdaptiveSpec } from "./ffn-skip-types.ts";

function log(line: string): void {
  console.log(`[bench] ${line}`);
  document.getElementById("log")?.append(`${line}\n`);
}

const query = new URLSearchParams(location.search);
/** What to run: the FFN-skip sweep, speculative decoding, or both (the default). */
const parts = query.get("parts")?.split(",") ?? ["sweep", "speculative"];

function resolveSpec(): AdaptiveSpec {
  const spec = structuredClone(casesJson) as AdaptiveSpec;
  if (query.get("quick")) {
    spec.prompts.count = 4;
    spec.generate = 24;
    spec.models.forEach((m) => (m.thresholds = m.thresholds.filter((_, i) => i % 3 === 0)));
    spec.speculative.fixedDrafts = spec.speculative.fixedDrafts.slice(0, 1);
  }
  const only = query.get("models")?.split(",");
  if (only) spec.models = spec.models.filter((m) => only.includes(m.id));
  return spec;
}

/** BOS, then 0..maxExtraTokens seeded tokens past the byte range; some prompts say their tail twice. */
function makePrompts(spec: AdaptiveSpec, vocab: number): number[][] {
  const random = rng(spec.prompts.seed);
  return Array.from({ length: spec.prompts.count }, (_, i) => {
    const body = Array.from({ length: Math.floor(random() * (spec.prompts.maxExtraTokens + 1)) }, () =>
      Math.floor(3 + random() * (vocab - 3)),
    );
    return [1, ...body, ...(i % 4 === 3 ? body : [])];
  });
}

async function modelBytes(c: AdaptiveModelCase): Promise<Uint8Array> {
  if (c.file) {
    const r = await fetch(`/__skiff_bench/${c.file}`);
    if (!r.ok) throw new Error(`the runner did not serve ${c.file} (HTTP ${r.status})`);
    return new Uint8Array(await r.arrayBuffer());
  }
  let bytes = syntheticLlamaGguf(c.synthetic!);
  c.ffnDownScale?.forEach((factor, layer) => {
    if (factor !== 1) bytes = scaleFfnDown(bytes, [layer], factor);
  });
  return bytes;
}

async function runModel(spec: AdaptiveSpec, c: AdaptiveModelCase): Promise<AdaptiveModelResult> {
  const bytes = await modelBytes(c);
  const reference = referenceWeightsFromGguf(bytes);
  const result: AdaptiveModelResult = {
    id: c.id,
    nLayers: reference.config.nLayers,
    denseDecodeTokensPerSecond: 0,
    sweep: [],
    speculative: [],
  };
  const engine = new Engine({ storePrefix: `skiff-bench-adaptive-${Date.now()}` });
  try {
    const info = await engine.importModel(new Blob([bytes as BlobPart]), { name: `${c.id}.gguf` });
    await engine.load(info.id, { contextLength: spec.contextLength });
    const prompts = makePrompts(spec, reference.config.vocabSize);
    // Warm-up: every step shape the runs use is made before anything is timed.
    await engine.generate(prompts[0], { temperature: 0, maxTokens: 4, stopAtEos: false });
    await engine.generate(prompts[0], { temperature: 0, maxTokens: 4, stopAtEos: false, ffnSkip: { enabled: true } });
    const dense = await denseRun(engine, reference, prompts, spec);
    result.denseDecodeTokensPerSecond = dense.decodeTokens / (dense.decodeMs / 1000);
    log(`${c.id}: dense ${result.denseDecodeTokensPerSecond.toFixed(1)} tok/s over ${prompts.length} prompts`);
    for (const threshold of parts.includes("sweep") ? c.thresholds : []) {
      const p = await sweepPoint(engine, reference, prompts, dense, spec, threshold);
      result.sweep.push(p);
      log(
        `  threshold ${threshold}: skip ${(100 * p.skipRatio).toFixed(1)}%, agree ${(100 * p.agreement).toFixed(1)}%, ` +
          `teacher top-1 ${(100 * p.teacherTop1).toFixed(1)}%, KL ${p.meanKl.toExponential(2)}, ${p.speedup.toFixed(2)}x`,
      );
    }
    result.knee = knee(result.sweep);
    if (parts.includes("sweep")) {
      const defaults = { ...DEFAULT_FFN_SKIP, enabled: true };
      const d = await sweepPoint(engine, reference, prompts, dense, spec, defaults.threshold, defaults);
      result.sweep.push(d);
      log(
        `  engine defaults: skip ${(100 * d.skipRatio).toFixed(1)}%, teacher top-1 ${(100 * d.teacherTop1).toFixed(1)}%`,
      );
    }
    for (const drafter of parts.includes("speculative") ? (["ngram", "ffn-skip"] as const) : []) {
      for (const fixed of [undefined, ...spec.speculative.fixedDrafts]) {
        // Each length's verify step is made before it is timed.
        await engine.generate(prompts[0], {
          temperature: 0,
          maxTokens: 8,
          stopAtEos: false,
          speculative: { drafter, maxDraft: fixed ?? spec.speculative.maxDraft, adaptive: false },
        });
        const p = await speculativePoint(engine, prompts, dense, spec, drafter, c.draftThreshold, fixed);
        result.speculative.push(p);
        log(
          `  ${drafter} ${p.mode}: accepted ${(100 * p.acceptanceRate).toFixed(1)}%, ${p.tokensPerPass.toFixed(2)} tokens/pass, ` +
            `${p.speedup.toFixed(2)}x, break-even ${p.breakEvenAcceptance?.toFixed(2) ?? "-"}, mismatches ${p.mismatches}`,
        );
      }
    }
  } catch (e) {
    result.error = errorText(e);
    log(`${c.id} failed: ${result.error}`);
  } finally {
    engine.dispose();
  }
  return result;
}

async function main(): Promise<AdaptiveBenchResults> {
  const start = performance.now();
  const spec = resolveSpec();
  const results: AdaptiveBenchResults = {
    date: new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19),
    userAgent: navigator.userAgent,
    adapter: "",
    spec,
    models: [],
    durationS: 0,
  };
  try {
    const ctx = await createGpuContext();
    results.adapter = `${JSON.stringify(ctx.adapterInfo)}${ctx.isCpuAdapter ? " (CPU implementation)" : ""}`;
    ctx.device.destroy();
    for (const c of spec.models) results.models.push(await runModel(spec, c));
  } catch (e) {
    results.fatal = errorText(e);
  }
  results.durationS = (performance.now() - start) / 1000;
  return results;
}

// main() catches everything, so the runner always gets an answer instead of waiting for its timeout.
void main().then((r) => {
  (window as unknown as { __benchResults: AdaptiveBenchResults }).__benchResults = r;
});

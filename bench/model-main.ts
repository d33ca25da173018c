// The model benchmark page: for each case of bench/model-cases.json, writes a synthetic Llama GGUF, runs Skiff's
// Engine on it (plus a per-kernel breakdown of one decode step) and wllama on the same bytes, same prompt ids and
// generation length; posts everything as window.__benchResults for bench/run-model.mjs. Local GGUF files named in
// the query (files=a.gguf,b.gguf, served by the runner at /__skiff_bench/file-<i>.gguf) run the same way.
import casesJson from "./model-cases.json";
import { createGpuContext } from "../src/gpu/device.ts";
import { rng } from "../src/kernels/testing.ts";
import { syntheticLlamaGguf } from "../src/loaders/synthetic-model.ts";
import { pruneModel } from "../src/tools/prune.ts";
import { benchSkiffModel, decodeBreakdown, dropStored, warmupLength } from "./model-skiff.ts";
import { benchWllama, wllamaDescription } from "./model-wllama.ts";
import { errorText } from "./timing.ts";
import { FIRST_BYTE_TOKEN } from "./model-types.ts";
import type {
  ModelBenchResults,
  ModelCase,
  ModelCaseResult,
  ModelPrompt,
  ModelSpec,
  ModelWeightType,
} from "./model-types.ts";

const BOS = 1;
const PROMPT_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

function log(line: string): void {
  console.log(`[bench] ${line}`);
  document.getElementById("log")?.append(`${line}\n`);
}

const query = new URLSearchParams(location.search);
/** Local files to benchmark, by name; with files and no `cases`, the synthetic cases are left out. */
const files = query.get("files")?.split(",").filter(Boolean) ?? [];

/** model-cases.json with the runner's overrides from the query string (cases=a,b generate=n prompt=n wllama=2,1). */
function resolveSpec(): ModelSpec {
  const spec = structuredClone(casesJson) as ModelSpec;
  const q = query;
  const only = q.get("cases")?.split(",") ?? (files.length > 0 ? [] : undefined);
  if (only) spec.cases = spec.cases.filter((c) => only.includes(c.id));
  if (q.get("generate")) spec.generate = Number(q.get("generate"));
  if (q.get("prompt")) spec.prompt.tokens = Number(q.get("prompt"));
  if (q.get("wllama") !== null) {
    spec.wllama = q
      .get("wllama")!
      .split(",")
      .filter(Boolean)
      .map((t) => ({ threads: Number(t) }));
  }
  return spec;
}

/**
 * The prompt as ids (for Skiff) and as text (for wllama, whose API takes text only): BOS, then seeded letters and
 * digits. The synthetic vocabulary has no token made of single characters, so llama.cpp's SPM tokenizer turns each
 * one into its byte token, and BOS + the text is exactly these ids.
 */
function makePrompt(spec: ModelSpec): ModelPrompt {
  const random = rng(spec.prompt.seed);
  const text = Array.from(
    { length: spec.prompt.tokens - 1 },
    () => PROMPT_CHARS[Math.floor(random() * PROMPT_CHARS.length)],
  ).join("");
  return { ids: [BOS, ...Array.from(text, (ch) => FIRST_BYTE_TOKEN + ch.charCodeAt(0))], text };
}

function caseTitle(spec: ModelSpec, c: ModelCase): string {
  const s = spec.shape;
  const pruned = c.prune
    ? `, ${c.prune.pattern}-pruned (${c.prune.tensors === "all" ? "all linear" : c.prune.tensors})`
    : "";
  return `${c.type.toUpperCase()}, dim ${s.dim}, ${s.nLayers} layers, ${s.nHeads}/${c.nKvHeads} heads (q/kv)${pruned}`;
}

/** Word tokens ("▁w123" reads " w123") and single characters (byte tokens) split a text back into tokens. */
function leadingAgreement(a: string, b: string): number {
  const split = (t: string) => t.match(/ w\d+|[\s\S]/gu) ?? [];
  const x = split(a);
  const y = split(b);
  let n = 0;
  while (n < x.length && n < y.length && x[n] === y[n]) n++;
  return n;
}

async function runCase(spec: ModelSpec, c: ModelCase, prompt: ModelPrompt): Promise<ModelCaseResult> {
  const title = caseTitle(spec, c);
  log(`${c.id}: ${title}`);
  const t = performance.now();
  const dense = syntheticLlamaGguf({ ...spec.shape, nKvHeads: c.nKvHeads, type: c.type, seed: c.seed });
  const bytes = c.prune ? pruneModel(dense, { ...c.prune, method: "magnitude" }).bytes : dense;
  const writeMs = performance.now() - t;
  log(`  GGUF: ${(bytes.byteLength / 2 ** 20).toFixed(1)} MiB written in ${(writeMs / 1000).toFixed(1)} s`);
  const result: ModelCaseResult = {
    id: c.id,
    title,
    type: c.type,
    nKvHeads: c.nKvHeads,
    ggufBytes: 0,
    writeMs,
    wllama: [],
  };
  return runBytes(spec, result, bytes, prompt);
}

/**
 * A local GGUF file, fetched from the runner. Its weight type is not known before import (and model-types.ts has
 * only the synthetic ones), so `type` is "file"; nKvHeads comes from the imported model's config. The prompt is
 * the same ids as for the synthetic cases (BOS and byte-token ids, in range of any real vocabulary); wllama gets
 * the text, which a real tokenizer may split into another number of tokens (its result says how many it counted).
 */
async function runFile(spec: ModelSpec, name: string, index: number, prompt: ModelPrompt): Promise<ModelCaseResult> {
  log(`${name}: local file`);
  const response = await fetch(`/__skiff_bench/file-${index}.gguf`);
  if (!response.ok) throw new Error(`cannot fetch ${name}: HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const type = "file" as ModelWeightType;
  const result: ModelCaseResult = { id: name, title: name, type, nKvHeads: 0, ggufBytes: 0, writeMs: 0, wllama: [] };
  // A real model may be trained for fewer positions than the synthetic cases' context: ask only for what the run uses.
  const fileSpec = { ...spec, contextLength: Math.min(spec.contextLength, prompt.ids.length + spec.generate) };
  return runBytes(fileSpec, result, bytes, prompt);
}

async function runBytes(
  spec: ModelSpec,
  result: ModelCaseResult,
  bytes: Uint8Array,
  prompt: ModelPrompt,
): Promise<ModelCaseResult> {
  let t = performance.now();
  result.ggufBytes = bytes.byteLength;
  const skiff = await benchSkiffModel(
    bytes,
    result.id.endsWith(".gguf") ? result.id : `${result.id}.gguf`,
    prompt.ids,
    spec,
    log,
  );
  result.skiff = skiff.result;
  if (skiff.stored && result.nKvHeads === 0) result.nKvHeads = skiff.stored.manifest.config.nKvHeads;
  if (skiff.stored && skiff.result.run) {
    // Mid-generation: the position the measured decode steps attend over on average.
    const position = prompt.ids.length + Math.floor(spec.generate / 2);
    try {
      t = performance.now();
      const b = await decodeBreakdown(skiff.stored, spec, position, skiff.result.tuning?.choices);
      b.engineMsPerToken = 1000 / skiff.result.run.decodeTokensPerSecond;
      result.breakdown = b;
      log(
        `  decode step at position ${position}: ${b.stepMs.toFixed(1)} ms whole, ${b.kernelSumMs.toFixed(1)} ms summed ` +
          `over ${b.nodes.length} nodes (${b.source}), engine ${b.engineMsPerToken.toFixed(1)} ms/token; ` +
          `${((performance.now() - t) / 1000).toFixed(1)} s`,
      );
    } catch (e) {
      result.breakdownError = errorText(e);
      log(`  decode breakdown failed: ${result.breakdownError}`);
    }
  }
  await dropStored(skiff.stored).catch(() => undefined);
  // The same prefill shapes as Skiff's warm-up; its text is the prompt's text minus BOS.
  const warmup = prompt.text.slice(0, warmupLength(prompt.ids.length, skiff.result.prefillChunk) - 1);
  for (const flavour of spec.wllama) {
    const w = await benchWllama(bytes, prompt, warmup, spec, flavour, log);
    if (w.run && skiff.result.run) w.tokensSameAsSkiff = leadingAgreement(w.run.text, skiff.result.run.text);
    result.wllama.push(w);
  }
  return result;
}

async function main(): Promise<ModelBenchResults> {
  const start = performance.now();
  const spec = resolveSpec();
  const results: ModelBenchResults = {
    date: new Date().toISOString().slice(0, 10),
    userAgent: navigator.userAgent,
    adapter: { vendor: "", architecture: "", device: "", description: "", isCpuAdapter: false },
    features: { shaderF16: false, subgroups: false, timestampQuery: false },
    crossOriginIsolated: self.crossOriginIsolated,
    hardwareConcurrency: navigator.hardwareConcurrency,
    method:
      "one warm-up generation (a prompt cut to the same prefill shapes, 2 tokens), then one measured greedy " +
      "generation of the same prompt ids, EOS ignored, each contender timed by the page's clock: time to first " +
      "token from the call to the first token (Skiff: its id read back; wllama: its first streamed chunk), " +
      "prefill tok/s = prompt tokens / that time, decode tok/s = (tokens - 1) / time from first to last token; " +
      "wllama's byte tokens get a logit bias of -1000 (llama-server fails on generated text that is not UTF-8)",
    spec,
    cases: [],
    durationS: 0,
  };
  try {
    const ctx = await createGpuContext();
    results.adapter = { ...ctx.adapterInfo, isCpuAdapter: ctx.isCpuAdapter };
    results.features = { ...ctx.features };
    ctx.device.destroy();
    results.wllamaVersion = wllamaDescription();
    log(`adapter: ${JSON.stringify(ctx.adapterInfo)}, features ${JSON.stringify(ctx.features)}`);
    log(
      `cross-origin isolated: ${results.crossOriginIsolated}, ${results.hardwareConcurrency} cores; ${results.wllamaVersion}`,
    );
    const prompt = makePrompt(spec);
    for (const [i, name] of files.entries()) {
      try {
        results.cases.push(await runFile(spec, name, i, prompt));
      } catch (e) {
        const error = errorText(e);
        const type = "file" as ModelWeightType;
        results.cases.push({ id: name, title: name, type, nKvHeads: 0, ggufBytes: 0, writeMs: 0, wllama: [], error });
        log(`${name} failed: ${error}`);
      }
    }
    for (const c of spec.cases) {
      try {
        results.cases.push(await runCase(spec, c, prompt));
      } catch (e) {
        const error = errorText(e);
        results.cases.push({
          id: c.id,
          title: caseTitle(spec, c),
          type: c.type,
          nKvHeads: c.nKvHeads,
          ggufBytes: 0,
          writeMs: 0,
          wllama: [],
          error,
        });
        log(`${c.id} failed: ${error}`);
      }
    }
  } catch (e) {
    results.fatal = errorText(e);
  }
  results.durationS = (performance.now() - start) / 1000;
  return results;
}

// main() catches everything, so the runner always gets an answer instead of waiting for its timeout.
void main().then((r) => {
  (window as unknown as { __benchResults?: ModelBenchResults }).__benchResults = r;
});

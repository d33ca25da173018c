#!/usr/bin/env node
// The `skiff` command line: `generate` runs the real engine in headless Chromium (WebGPU) on a local GGUF and
// streams the text; `bench` runs the Playwright benchmarks of kernels and models in one command and writes JSON, a
// markdown table and an SVG chart; `prune` writes an N:M-pruned copy of a GGUF (in Node, no browser). Exit codes:
// 0 ok, 2 bad arguments, 3 model or runtime error.
import { parseArgs } from "node:util";
import { existsSync, statSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { resolve, join } from "node:path";
import { root, startBenchServer } from "../bench/runner.mjs";
import { chromium } from "playwright";
import { chromeArgs, findChrome } from "../scripts/chrome-path.mjs";

const USAGE = `usage:
  skiff generate <model.gguf> [--prompt TEXT | --prompt-ids 1,2,3] [--max-tokens N] [--temperature T]
                 [--top-k K] [--top-p P] [--seed S] [--repetition-penalty R] [--context N] [--json]
                 [--ffn-skip [--ffn-skip-threshold T] [--ffn-skip-warmup N] [--ffn-skip-protect-first N]
                  [--ffn-skip-protect-last N] [--ffn-skip-max-fraction F] [--ffn-skip-recheck N]]
                 [--speculative ngram|ffn-skip [--max-draft N]]
  skiff bench [--kernels] [--model FILE ...] [--tune] [--ffn-skip] [--peers] [--json] [--out DIR] [--quick]
  skiff prune <in.gguf> <out.gguf> --pattern N:M [--method magnitude|wanda|sparsegpt]
              [--tensors ffn|attn|all] [--calibration-ids FILE]`;

class UsageError extends Error {}

function fail(code, message) {
  process.stderr.write(`skiff: ${message.split("\n")[0]}\n`);
  process.exit(code);
}

function number(name, text, { integer = false, min = -Infinity } = {}) {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (!Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min) {
    throw new UsageError(
      `--${name} expects ${integer ? "a whole number" : "a number"}${min > -Infinity ? ` of at least ${min}` : ""}, got "${text}"`,
    );
  }
  return v;
}

function parseGenerate(args) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      prompt: { type: "string" },
      "prompt-ids": { type: "string" },
      "max-tokens": { type: "string" },
      temperature: { type: "string" },
      "top-k": { type: "string" },
      "top-p": { type: "string" },
      seed: { type: "string" },
      "repetition-penalty": { type: "string" },
      context: { type: "string" },
      json: { type: "boolean" },
      "ffn-skip": { type: "boolean" },
      "ffn-skip-threshold": { type: "string" },
      "ffn-skip-warmup": { type: "string" },
      "ffn-skip-protect-first": { type: "string" },
      "ffn-skip-protect-last": { type: "string" },
      "ffn-skip-max-fraction": { type: "string" },
      "ffn-skip-recheck": { type: "string" },
      speculative: { type: "string" },
      "max-draft": { type: "string" },
    },
  });
  if (positionals.length !== 1) throw new UsageError("generate needs exactly one model file");
  if (values.prompt !== undefined && values["prompt-ids"] !== undefined) {
    throw new UsageError("give --prompt or --prompt-ids, not both");
  }
  let ids;
  if (values["prompt-ids"] !== undefined) {
    ids = values["prompt-ids"].split(",").map((t) => number("prompt-ids", t.trim(), { integer: true, min: 0 }));
  }
  const settings = {
    maxTokens: number("max-tokens", values["max-tokens"], { integer: true, min: 1 }),
    temperature: number("temperature", values.temperature, { min: 0 }),
    topK: number("top-k", values["top-k"], { integer: true, min: 0 }),
    topP: number("top-p", values["top-p"], { min: 0 }),
    seed: number("seed", values.seed, { integer: true, min: 0 }),
    repetitionPenalty: number("repetition-penalty", values["repetition-penalty"], { min: 0 }),
  };
  for (const k of Object.keys(settings)) if (settings[k] === undefined) delete settings[k];
  const ffnSkip = ffnSkipOptions(values);
  if (ffnSkip) settings.ffnSkip = ffnSkip;
  if (values.speculative !== undefined) {
    if (!["ngram", "ffn-skip", "off"].includes(values.speculative)) {
      throw new UsageError(`--speculative expects ngram, ffn-skip or off, got "${values.speculative}"`);
    }
    settings.speculative = { drafter: values.speculative };
    const maxDraft = number("max-draft", values["max-draft"], { integer: true, min: 1 });
    if (maxDraft !== undefined) settings.speculative.maxDraft = maxDraft;
  } else if (values["max-draft"] !== undefined) throw new UsageError("--max-draft needs --speculative");
  return {
    file: resolve(positionals[0]),
    prompt: ids ? { ids } : (values.prompt ?? ""),
    settings,
    context: number("context", values.context, { integer: true, min: 1 }),
    json: values.json ?? false,
  };
}

/** The FFN-skip settings object from --ffn-skip and its knobs (the engine checks ranges); undefined when off. */
function ffnSkipOptions(values) {
  const knobs = {
    threshold: number("ffn-skip-threshold", values["ffn-skip-threshold"]),
    warmupTokens: number("ffn-skip-warmup", values["ffn-skip-warmup"], { integer: true, min: 0 }),
    protectFirst: number("ffn-skip-protect-first", values["ffn-skip-protect-first"], { integer: true, min: 0 }),
    protectLast: number("ffn-skip-protect-last", values["ffn-skip-protect-last"], { integer: true, min: 0 }),
    maxSkipFraction: number("ffn-skip-max-fraction", values["ffn-skip-max-fraction"], { min: 0 }),
    recheckEvery: number("ffn-skip-recheck", values["ffn-skip-recheck"], { integer: true, min: 0 }),
  };
  for (const k of Object.keys(knobs)) if (knobs[k] === undefined) delete knobs[k];
  if (!values["ffn-skip"]) {
    if (Object.keys(knobs).length > 0) throw new UsageError("the --ffn-skip-* options need --ffn-skip");
    return undefined;
  }
  return { enabled: true, ...knobs };
}

/** Newest modification time of any file under `dir`. */
function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** The library build (dist/skiff.js), rebuilt when the sources are newer: the CLI runs what a page would embed. */
function ensureLibraryBuild() {
  const lib = join(root, "dist", "skiff.js");
  const sources = Math.max(newestMtime(join(root, "src")), newestMtime(join(root, "shaders")));
  if (existsSync(lib) && statSync(lib).mtimeMs >= sources) return;
  const r = spawnSync(
    process.execPath,
    [join(root, "node_modules", "vite", "bin", "vite.js"), "build", "-c", "vite.lib.config.ts", "--logLevel", "error"],
    {
      cwd: root,
      stdio: ["ignore", "ignore", "pipe"],
      encoding: "utf8",
    },
  );
  if (r.status !== 0) fail(3, `building dist/skiff.js failed: ${(r.stderr || "").trim().split("\n")[0]}`);
}

async function generate(o) {
  if (!existsSync(o.file) || !statSync(o.file).isFile()) fail(3, `cannot read model file ${o.file}`);
  ensureLibraryBuild();
  const executablePath = findChrome();
  if (!executablePath) fail(3, "no Chromium found: install Debian's `chromium` package or set CHROME_PATH");
  const { server, url } = await startBenchServer({ entries: ["e2e/pages/blank.html"], include: ["idb-keyval"] });
  const browser = await chromium.launch({ executablePath, args: chromeArgs, headless: true });
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    // The model is served from disk at a private path, so the worker imports it like any URL (routed on the
    // context, which also sees the worker's requests).
    await context.route("**/__skiff_cli/model.gguf", (route) =>
      route.fulfill({ status: 200, contentType: "application/octet-stream", body: readFileSync(o.file) }),
    );
    await page.exposeFunction("__skiffToken", (text) => {
      if (!o.json) process.stdout.write(text);
    });
    await page.goto(`${url}e2e/pages/blank.html`);
    const outcome = await page.evaluate(
      async ({ prompt, settings, context }) => {
        try {
          // The built library and its worker client: the same engine a page embeds.
          const { createEngine } = await import("/dist/skiff.js");
          const skiff = createEngine();
          const model = await skiff.importModel("/__skiff_cli/model.gguf", { name: "model.gguf" });
          await skiff.load(model.id, context ? { contextLength: context } : {});
          const generation = skiff.generate(prompt, settings);
          for await (const t of generation) await window.__skiffToken(t.text);
          const r = await generation;
          await skiff.dispose();
          return { ok: true, ids: r.tokenIds, text: r.text, stopReason: r.stopReason, stats: r.stats };
        } catch (e) {
          return { ok: false, code: e?.code ?? "error", message: e?.message ?? String(e) };
        }
      },
      { prompt: o.prompt, settings: o.settings, context: o.context },
    );
    if (!outcome.ok) fail(3, `${outcome.code}: ${outcome.message}`);
    if (o.json) {
      const { ids, text, stopReason, stats } = outcome;
      process.stdout.write(`${JSON.stringify({ ids, text, stopReason, stats })}\n`);
    } else {
      process.stdout.write("\n");
      // What the adaptive paths did goes to stderr, so stdout stays the generated text.
      const { ffnSkip, speculative } = outcome.stats;
      if (ffnSkip) {
        process.stderr.write(
          `skiff: FFN blocks skipped: ${ffnSkip.blocksSkipped} of ${ffnSkip.blocksRun + ffnSkip.blocksSkipped} (${(100 * ffnSkip.skipRatio).toFixed(1)}%)\n`,
        );
      }
      if (speculative) {
        process.stderr.write(
          `skiff: ${speculative.drafter} drafts accepted: ${speculative.accepted} of ${speculative.drafted} in ${speculative.verifyPasses} verify passes (${speculative.tokensPerPass.toFixed(2)} tokens per pass)\n`,
        );
      }
    }
  } finally {
    await browser.close();
    await server.close();
  }
}

function parseBench(args) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      kernels: { type: "boolean" },
      model: { type: "string", multiple: true },
      tune: { type: "boolean" },
      "ffn-skip": { type: "boolean" },
      peers: { type: "boolean" },
      json: { type: "boolean" },
      out: { type: "string" },
      quick: { type: "boolean" },
    },
  });
  // `--model a.gguf b.gguf` reads like `--model a.gguf --model b.gguf`.
  if (positionals.length > 0 && !values.model) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const files = [...(values.model ?? []), ...positionals].map((f) => resolve(f));
  const all = !values.kernels && !values.tune && !values["ffn-skip"] && files.length === 0;
  return {
    kernels: values.kernels || all,
    model: files.length > 0 || all,
    tune: values.tune ?? false,
    ffnSkip: values["ffn-skip"] ?? false,
    files,
    peers: values.peers ?? false,
    json: values.json ?? false,
    quick: values.quick ?? false,
    out: resolve(values.out ?? join(root, "bench", "results")),
  };
}

/** The newest `<name>-*.json` in `dir` written since `since` (the runner names it by the page's date). */
function newestResults(dir, name, since) {
  const found = readdirSync(dir)
    .filter((f) => f.startsWith(`${name}-`) && f.endsWith(".json"))
    .map((f) => ({ path: join(dir, f), mtime: statSync(join(dir, f)).mtimeMs }))
    .filter((f) => f.mtime >= since - 2000)
    .sort((a, b) => b.mtime - a.mtime);
  return found[0] && JSON.parse(readFileSync(found[0].path, "utf8"));
}

/**
 * Each benchmark runs as its own process (bench/run-*.mjs, as `npm run bench:*` does), driven by environment
 * variables; with --json their logs go to stderr and only the combined results to stdout.
 */
function bench(o) {
  for (const f of o.files) if (!existsSync(f) || !statSync(f).isFile()) fail(3, `cannot read model file ${f}`);
  const runs = [];
  const env = { BENCH_OUT: o.out, BENCH_PEERS: o.peers ? "1" : "0" };
  if (o.kernels)
    runs.push({ name: "kernels", script: "bench/run-kernels.mjs", env: { BENCH_QUICK: o.quick ? "1" : "0" } });
  if (o.model) {
    const m = {};
    if (o.files.length > 0) m.BENCH_FILES = JSON.stringify(o.files);
    if (!o.peers) m.BENCH_WLLAMA = "";
    if (o.quick) Object.assign(m, { BENCH_GENERATE: "8", BENCH_PROMPT: "16" });
    // Files replace the synthetic cases; --quick alone keeps one small one.
    if (o.quick && o.files.length === 0) m.BENCH_CASES = "q4_0-kv12";
    runs.push({ name: "model", script: "bench/run-model.mjs", env: m });
  }
  // Per op and shape of the 110M-parameter model: every candidate's time and the choice.
  if (o.tune) runs.push({ name: "tune", script: "bench/run-tune.mjs", env: {} });
  // FFN skipping: skip ratio against greedy agreement and KL per threshold; speculative decoding per drafter.
  if (o.ffnSkip)
    runs.push({ name: "ffn-skip", script: "bench/run-ffn-skip.mjs", env: o.quick ? { BENCH_QUICK: "1" } : {} });
  const combined = {};
  for (const run of runs) {
    const since = Date.now();
    const r = spawnSync(process.execPath, [join(root, run.script)], {
      cwd: root,
      env: { ...process.env, ...env, ...run.env },
      stdio: ["ignore", o.json ? 2 : "inherit", "inherit"],
    });
    const results = existsSync(o.out) ? newestResults(o.out, run.name, since) : undefined;
    if (r.status !== 0 || !results) {
      const why = results?.fatal ?? (r.signal ? `killed by ${r.signal}` : `exit ${r.status}`);
      fail(3, `${run.name} benchmark failed: ${why}`);
    }
    combined[run.name] = results;
  }
  if (o.json) process.stdout.write(`${JSON.stringify(combined)}\n`);
}

function parsePrune(args) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      pattern: { type: "string" },
      method: { type: "string" },
      tensors: { type: "string" },
      "calibration-ids": { type: "string" },
    },
  });
  if (positionals.length !== 2) throw new UsageError("prune needs an input and an output GGUF file");
  if (values.pattern === undefined) throw new UsageError("prune needs --pattern N:M (e.g. --pattern 2:4)");
  const calibration = values["calibration-ids"];
  return {
    input: resolve(positionals[0]),
    output: resolve(positionals[1]),
    options: { pattern: values.pattern, method: values.method, tensors: values.tensors },
    calibrationFile: calibration === undefined ? undefined : resolve(calibration),
  };
}

/**
 * Prunes in Node with the library's src/tools/prune.ts, loaded through a Vite server as the benchmarks load their
 * report modules, so no build is needed. Options the library refuses ("bad-argument") exit 2 like bad flags.
 */
async function prune(o) {
  if (!existsSync(o.input) || !statSync(o.input).isFile()) fail(3, `cannot read model file ${o.input}`);
  const options = { ...o.options };
  if (o.calibrationFile !== undefined) {
    if (!existsSync(o.calibrationFile)) fail(3, `cannot read calibration file ${o.calibrationFile}`);
    try {
      options.calibrationIds = JSON.parse(readFileSync(o.calibrationFile, "utf8"));
    } catch (e) {
      throw new UsageError(`--calibration-ids ${o.calibrationFile} is not JSON: ${e.message}`);
    }
  }
  const { server } = await startBenchServer({ entries: [] });
  try {
    const { pruneModel } = await server.ssrLoadModule("/src/tools/prune.ts");
    let r;
    try {
      r = pruneModel(new Uint8Array(readFileSync(o.input)), options);
    } catch (e) {
      if (e?.code === "bad-argument") throw new UsageError(e.message);
      throw new Error(e?.code ? `${e.code}: ${e.message}` : (e?.message ?? String(e)));
    }
    writeFileSync(o.output, r.bytes);
    const weights = r.tensors.reduce((a, t) => a + t.rows * t.cols, 0);
    const zeros = r.tensors.reduce((a, t) => a + t.zeros, 0);
    const how = r.method === "magnitude" ? r.method : `${r.method}, ${r.calibrationTokens} calibration tokens`;
    process.stdout.write(
      `pruned ${r.tensors.length} tensors to ${r.pattern.n}:${r.pattern.m} (${how}): ${zeros} of ${weights} ` +
        `weights are zero (${((100 * zeros) / weights).toFixed(1)}%); wrote ${o.output}\n`,
    );
  } finally {
    await server.close();
  }
}

const [command, ...rest] = process.argv.slice(2);
try {
  if (command === "generate") await generate(parseGenerate(rest));
  else if (command === "bench") bench(parseBench(rest));
  else if (command === "prune") await prune(parsePrune(rest));
  else throw new UsageError(command ? `unknown command "${command}"` : "no command given");
} catch (e) {
  if (e instanceof UsageError || e?.code?.startsWith?.("ERR_PARSE_ARGS")) fail(2, `${e.message}\n${USAGE}`);
  fail(3, e?.message ?? String(e));
}

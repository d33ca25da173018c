#!/usr/bin/env node
// The `skiff` command line: `generate` runs the real engine in headless Chromium (WebGPU) on a local GGUF and
// streams the text; `bench` runs the Playwright benchmarks of kernels and models in one command and writes JSON, a
// markdown table and an SVG chart. Exit codes: 0 ok, 2 bad arguments, 3 model or runtime error.
import { parseArgs } from "node:util";
import { existsSync, statSync, readFileSync, readdirSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { resolve, join } from "node:path";
import { root, startBenchServer } from "../bench/runner.mjs";
import { chromium } from "playwright";
import { chromeArgs, findChrome } from "../scripts/chrome-path.mjs";

const USAGE = `usage:
  skiff generate <model.gguf> [--prompt TEXT | --prompt-ids 1,2,3] [--max-tokens N] [--temperature T]
                 [--top-k K] [--top-p P] [--seed S] [--repetition-penalty R] [--context N] [--json]
  skiff bench [--kernels] [--model FILE ...] [--tune] [--peers] [--json] [--out DIR] [--quick]`;

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
  return {
    file: resolve(positionals[0]),
    prompt: ids ? { ids } : (values.prompt ?? ""),
    settings,
    context: number("context", values.context, { integer: true, min: 1 }),
    json: values.json ?? false,
  };
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
    } else process.stdout.write("\n");
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
      peers: { type: "boolean" },
      json: { type: "boolean" },
      out: { type: "string" },
      quick: { type: "boolean" },
    },
  });
  // `--model a.gguf b.gguf` reads like `--model a.gguf --model b.gguf`.
  if (positionals.length > 0 && !values.model) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const files = [...(values.model ?? []), ...positionals].map((f) => resolve(f));
  const all = !values.kernels && !values.tune && files.length === 0;
  return {
    kernels: values.kernels || all,
    model: files.length > 0 || all,
    tune: values.tune ?? false,
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

const [command, ...rest] = process.argv.slice(2);
try {
  if (command === "generate") await generate(parseGenerate(rest));
  else if (command === "bench") bench(parseBench(rest));
  else throw new UsageError(command ? `unknown command "${command}"` : "no command given");
} catch (e) {
  if (e instanceof UsageError || e?.code?.startsWith?.("ERR_PARSE_ARGS")) fail(2, `${e.message}\n${USAGE}`);
  fail(3, e?.message ?? String(e));
}

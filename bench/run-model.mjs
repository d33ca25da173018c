// `npm run bench:model`: serves bench/model.html with Vite on localhost (cross-origin isolated, so wllama can use
// threads), runs it in headless Chromium (WebGPU), then writes bench/results/model-<date>.json and .md and prints
// the table. BENCH_CASES=id,id, BENCH_GENERATE=n, BENCH_PROMPT=n and BENCH_WLLAMA=2,1 override model-cases.json
// for quick runs; BENCH_VERBOSE=1 forwards every console line of the page. BENCH_FILES='["a.gguf"]' (a JSON list
// of paths) benchmarks local GGUF files instead of the synthetic cases (served to the page by a Playwright route);
// BENCH_OUT=dir writes the results there.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { loadavg } from "node:os";
import { createLog, runBenchPage, startBenchServer, writeBenchResults } from "./runner.mjs";

const PAGE_TIMEOUT_MS = 12 * 60_000;
const VERBOSE = Boolean(process.env.BENCH_VERBOSE);
const OVERRIDES = { cases: "BENCH_CASES", generate: "BENCH_GENERATE", prompt: "BENCH_PROMPT", wllama: "BENCH_WLLAMA" };
const log = createLog("bench:model");
const FILES = process.env.BENCH_FILES ? JSON.parse(process.env.BENCH_FILES) : [];

function pagePath() {
  const q = new URLSearchParams();
  for (const [key, env] of Object.entries(OVERRIDES)) if (process.env[env] !== undefined) q.set(key, process.env[env]);
  if (FILES.length > 0) q.set("files", FILES.map((f) => basename(f)).join(","));
  const query = q.toString();
  return `bench/model.html${query ? `?${query}` : ""}`;
}

/** Serves BENCH_FILES at /__skiff_bench/file-<i>.gguf, read from disk when the page asks. */
async function setup(page) {
  for (const [i, file] of FILES.entries()) {
    await page.route(`**/__skiff_bench/file-${i}.gguf`, (route) =>
      route.fulfill({ status: 200, contentType: "application/octet-stream", body: readFileSync(file) }),
    );
  }
}

function writeResults(server, results) {
  return writeBenchResults(server, { name: "model", reportModule: "/bench/model-report.ts", results, log });
}

const fromIndex = process.argv.indexOf("--from");
let exitCode = 0;
const { server, url } = await startBenchServer({
  entries: ["bench/model.html"],
  // wllama is served as-is from node_modules: its worker and .wasm are fetched from there at run time.
  exclude: ["@wllama/wllama"],
  // Cross-origin isolation gives the page SharedArrayBuffer, which wllama's threads need.
  headers: { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" },
});
try {
  if (fromIndex > 0) {
    await writeResults(server, JSON.parse(readFileSync(process.argv[fromIndex + 1], "utf8")));
  } else {
    const path = pagePath();
    log(`serving ${url}${path}`);
    const before = loadavg()[0];
    const results = await runBenchPage(url, path, { timeoutMs: PAGE_TIMEOUT_MS, log, verbose: VERBOSE, setup });
    results.loadAverage = { before, after: loadavg()[0] };
    await writeResults(server, results);
    if (results.fatal) {
      console.error(`benchmark page failed: ${results.fatal}`);
      exitCode = 1;
    }
  }
} catch (e) {
  console.error(`bench:model failed: ${e instanceof Error ? e.stack : String(e)}`);
  exitCode = 1;
} finally {
  await server.close();
}
process.exit(exitCode);

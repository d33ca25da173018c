// `npm run bench:kernels`: serves bench/kernels.html with Vite on localhost, runs it in headless Chromium (WebGPU),
// waits for the page to post its results, then writes bench/results/kernels-<date>.json, .md and .svg and prints the
// table. BENCH_QUICK=1 runs the small "quick" case list of cases.json, BENCH_PEERS=0 leaves out onnxruntime-web and
// tfjs, BENCH_CASES=id,id runs only those cases, BENCH_OUT=dir writes the results there (how `skiff bench` drives it).
import { readFileSync } from "node:fs";
import { createLog, runBenchPage, startBenchServer, writeBenchResults } from "./runner.mjs";

const PAGE_TIMEOUT_MS = 9 * 60_000;
/** BENCH_VERBOSE=1 forwards every console line of the page (e.g. onnxruntime's own logs). */
const VERBOSE = Boolean(process.env.BENCH_VERBOSE);
const log = createLog("bench");

/** The page's query: quick=1 and peers=0 from the environment. */
function pagePath() {
  const q = new URLSearchParams();
  if (process.env.BENCH_QUICK === "1") q.set("quick", "1");
  if (process.env.BENCH_PEERS === "0") q.set("peers", "0");
  if (process.env.BENCH_CASES) q.set("cases", process.env.BENCH_CASES);
  const query = q.toString();
  return `bench/kernels.html${query ? `?${query}` : ""}`;
}

function startServer() {
  return startBenchServer({
    entries: ["bench/kernels.html"],
    // Listed up front and no discovery: a dependency found mid-run would make Vite reload the page.
    include: ["@tensorflow/tfjs-core", "@tensorflow/tfjs-backend-webgpu"],
    // onnxruntime-web is served as-is from node_modules so its import.meta.url and .wasm paths stay real.
    exclude: ["onnxruntime-web"],
  });
}

/** Writes the JSON and the markdown table next to each other and prints the table. */
function writeResults(server, results) {
  return writeBenchResults(server, { name: "kernels", reportModule: "/bench/report.ts", results, log });
}

// `--from <results.json>` only redraws the table of an earlier run.
const fromIndex = process.argv.indexOf("--from");
let exitCode = 0;
const { server, url } = await startServer();
try {
  if (fromIndex > 0) {
    await writeResults(server, JSON.parse(readFileSync(process.argv[fromIndex + 1], "utf8")));
  } else {
    const path = pagePath();
    log(`serving ${url}${path}`);
    const results = await runBenchPage(url, path, {
      timeoutMs: PAGE_TIMEOUT_MS,
      log,
      verbose: VERBOSE,
    });
    await writeResults(server, results);
    if (results.fatal) {
      console.error(`benchmark page failed: ${results.fatal}`);
      exitCode = 1;
    }
  }
} catch (e) {
  console.error(`bench:kernels failed: ${e instanceof Error ? e.stack : String(e)}`);
  exitCode = 1;
} finally {
  await server.close();
}
process.exit(exitCode);

// `node bench/run-ffn-skip.mjs`: the adaptive-compute benchmark (FFN-skip threshold sweep and speculative decoding)
// in headless Chromium (WebGPU); writes bench/results/ffn-skip-<date>.json and .md and prints the table. The page gets
// models from ../shared/models through a Playwright route. BENCH_QUICK=1 runs a small version; BENCH_MODELS=id,id
// picks cases of bench/ffn-skip-cases.json; BENCH_PARTS=sweep or speculative runs one half; BENCH_VERBOSE=1
// forwards every console line; BENCH_OUT=dir writes there.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createLog, root, runBenchPage, startBenchServer, writeBenchResults } from "./runner.mjs";

const PAGE_TIMEOUT_MS = 60 * 60_000;
const log = createLog("bench:ffn-skip");
const models = join(root, "..", "shared", "models");

async function setup(page) {
  await page.route("**/__skiff_bench/*.gguf", (route) => {
    const name = new URL(route.request().url()).pathname.split("/").pop();
    try {
      route.fulfill({ status: 200, contentType: "application/octet-stream", body: readFileSync(join(models, name)) });
    } catch {
      route.fulfill({ status: 404, body: `no ${name} in ${models}` });
    }
  });
}

let exitCode = 0;
const { server, url } = await startBenchServer({ entries: ["bench/ffn-skip.html"], include: ["idb-keyval"] });
try {
  const q = new URLSearchParams();
  if (process.env.BENCH_QUICK === "1") q.set("quick", "1");
  if (process.env.BENCH_MODELS) q.set("models", process.env.BENCH_MODELS);
  if (process.env.BENCH_PARTS) q.set("parts", process.env.BENCH_PARTS);
  const path = `bench/ffn-skip.html${q.size ? `?${q}` : ""}`;
  log(`serving ${url}${path}`);
  const results = await runBenchPage(url, path, {
    timeoutMs: PAGE_TIMEOUT_MS,
    log,
    verbose: Boolean(process.env.BENCH_VERBOSE),
    setup,
  });
  await writeBenchResults(server, { name: "ffn-skip", reportModule: "/bench/ffn-skip-report.ts", results, log });
  if (results.fatal) {
    console.error(`benchmark page failed: ${results.fatal}`);
    exitCode = 1;
  }
} catch (e) {
  console.error(`bench:ffn-skip failed: ${e instanceof Error ? e.stack : String(e)}`);
  exitCode = 1;
} finally {
  await server.close();
}
process.exit(exitCode);

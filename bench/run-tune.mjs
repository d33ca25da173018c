// `skiff bench --tune`: serves bench/tune.html with Vite on localhost, runs it in headless Chromium (WebGPU), then
// writes bench/results/tune-<date>.json and .md and prints the table: per op and shape, every candidate's time and
// the choice. BENCH_CASES=id,id picks cases of bench/model-cases.json (default: the first); BENCH_OUT=dir writes the
// results there.
import { readFileSync } from "node:fs";
import { createLog, runBenchPage, startBenchServer, writeBenchResults } from "./runner.mjs";

const PAGE_TIMEOUT_MS = 9 * 60_000;
const log = createLog("bench:tune");

function writeResults(server, results) {
  return writeBenchResults(server, { name: "tune", reportModule: "/bench/tune-report.ts", results, log });
}

const fromIndex = process.argv.indexOf("--from");
let exitCode = 0;
const { server, url } = await startBenchServer({ entries: ["bench/tune.html"] });
try {
  if (fromIndex > 0) {
    await writeResults(server, JSON.parse(readFileSync(process.argv[fromIndex + 1], "utf8")));
  } else {
    const q = process.env.BENCH_CASES ? `?cases=${encodeURIComponent(process.env.BENCH_CASES)}` : "";
    const path = `bench/tune.html${q}`;
    log(`serving ${url}${path}`);
    const results = await runBenchPage(url, path, { timeoutMs: PAGE_TIMEOUT_MS, log });
    await writeResults(server, results);
    if (results.fatal || results.cases.some((c) => c.error)) exitCode = 1;
  }
} catch (e) {
  console.error(`bench:tune failed: ${e instanceof Error ? e.stack : String(e)}`);
  exitCode = 1;
} finally {
  await server.close();
}
process.exit(exitCode);

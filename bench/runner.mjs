// Shared by the benchmark entry points (bench/run-kernels.mjs, bench/run-model.mjs): a Vite server on localhost,
// one page in headless Chromium (WebGPU) that posts `window.__benchResults`, and writing the results JSON, table and
// chart (into BENCH_OUT when set, else bench/results).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer } from "vite";
import { chartFor } from "./chart.mjs";
import { chromium } from "playwright";
import { chromeArgs, findChrome } from "../scripts/chrome-path.mjs";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** `[tag  12.3s] line` on stdout, seconds since the logger was made. */
export function createLog(tag) {
  const started = Date.now();
  return (line) => {
    const s = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
    console.log(`[${tag} ${s}s] ${line}`);
  };
}

/**
 * Vite on 127.0.0.1 with no config file: a benchmark must not depend on (or disturb) the demo's Vite settings.
 * `include` is pre-bundled up front with no discovery (a dependency found mid-run would make Vite reload the page);
 * `exclude` is served as-is from node_modules so its import.meta.url and .wasm paths stay real.
 */
export async function startBenchServer({ entries, include = [], exclude = [], headers }) {
  const server = await createServer({
    root,
    configFile: false,
    logLevel: "warn",
    clearScreen: false,
    // A cache of its own: re-optimizing deps in the shared node_modules/.vite would invalidate the modules of a
    // dev server running at the same time (e.g. Playwright's), whose pages then fail to import them.
    cacheDir: join(root, "node_modules", ".vite-bench"),
    server: { host: "127.0.0.1", port: 0, strictPort: false, hmr: false, watch: null, headers },
    optimizeDeps: { entries, include, exclude, noDiscovery: true },
  });
  await server.listen();
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error("Vite did not report a local URL");
  return { server, url };
}

/**
 * Opens `${url}${pagePath}` in headless Chromium and waits for the page to post `window.__benchResults`.
 * Page lines starting with "[bench]" are logged; errors always, everything with `verbose`. `setup(page)` runs
 * before the page loads (e.g. routes that serve local files to it).
 */
export async function runBenchPage(url, pagePath, { timeoutMs, log, verbose = false, setup }) {
  const executablePath = findChrome();
  if (!executablePath) throw new Error("no Chromium found: install Debian's `chromium` package or set CHROME_PATH");
  const browser = await chromium.launch({ executablePath, args: chromeArgs, headless: true });
  try {
    const page = await browser.newPage();
    page.on("console", (msg) => {
      const text = msg.text();
      if (text.startsWith("[bench]")) log(text.slice(8));
      else if (msg.type() === "error" || verbose) log(`page ${msg.type()}: ${text.slice(0, 400)}`);
    });
    page.on("response", (r) => {
      if (r.status() >= 400) log(`HTTP ${r.status()} for ${r.url()}`);
    });
    page.on("pageerror", (e) => log(`uncaught in page: ${e.message}`));
    if (setup) await setup(page);
    // A crashed page never posts results: fail at once rather than at the timeout.
    const crashed = new Promise((_, reject) => page.on("crash", () => reject(new Error("the benchmark page crashed"))));
    await page.goto(`${url}${pagePath}`);
    const posted = page.waitForFunction(() => "__benchResults" in window, null, { timeout: timeoutMs, polling: 500 });
    await Promise.race([posted, crashed]);
    return await page.evaluate(() => window.__benchResults);
  } finally {
    await browser.close();
  }
}

/** Where results go: BENCH_OUT (set by `skiff bench --out`), else bench/results. */
export function resultsDir() {
  return process.env.BENCH_OUT ? resolve(process.env.BENCH_OUT) : join(root, "bench", "results");
}

/**
 * Writes <dir>/<name>-<date>.json, .md and .svg and prints the table. The table comes from `reportModule`'s
 * `formatReport`, loaded through the running Vite server so Node needs no TypeScript loader; the chart from
 * bench/chart.mjs. Returns the JSON's path.
 */
export async function writeBenchResults(server, { name, reportModule, results, log }) {
  const { formatReport } = await server.ssrLoadModule(reportModule);
  const markdown = formatReport(results);
  const dir = resultsDir();
  mkdirSync(dir, { recursive: true });
  const stem = join(dir, `${name}-${results.date}`);
  writeFileSync(`${stem}.json`, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(`${stem}.md`, markdown);
  const chart = chartFor(name, results);
  if (chart) writeFileSync(`${stem}.svg`, chart);
  console.log(`\n${markdown}`);
  log(`wrote ${stem}.json, .md${chart ? " and .svg" : ""}`);
  return `${stem}.json`;
}

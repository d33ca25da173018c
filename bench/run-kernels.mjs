// `npm run bench:kernels`: serves bench/kernels.html with Vite on localhost, runs it in headless Chromium (WebGPU),
// waits for the page to post its results, then writes bench/results/kernels-<date>.json and .md and prints the table.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer } from "vite";
import { chromium } from "playwright";
import { chromeArgs, findChrome } from "../scripts/chrome-path.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const PAGE_TIMEOUT_MS = 9 * 60_000;
const started = Date.now();
/** BENCH_VERBOSE=1 forwards every console line of the page (e.g. onnxruntime's own logs). */
const VERBOSE = Boolean(process.env.BENCH_VERBOSE);

function log(line) {
  const s = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  console.log(`[bench ${s}s] ${line}`);
}

async function startServer() {
  // No config file: the benchmark must not depend on (or disturb) the demo's Vite settings.
  const server = await createServer({
    root,
    configFile: false,
    logLevel: "warn",
    clearScreen: false,
    server: { host: "127.0.0.1", port: 0, strictPort: false, hmr: false, watch: null },
    optimizeDeps: {
      entries: ["bench/kernels.html"],
      // Listed up front and no discovery: a dependency found mid-run would make Vite reload the page.
      include: ["@tensorflow/tfjs-core", "@tensorflow/tfjs-backend-webgpu"],
      // onnxruntime-web is served as-is from node_modules so its import.meta.url and .wasm paths stay real.
      exclude: ["onnxruntime-web"],
      noDiscovery: true,
    },
  });
  await server.listen();
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error("Vite did not report a local URL");
  return { server, url };
}

async function runPage(url) {
  const executablePath = findChrome();
  if (!executablePath) throw new Error("no Chromium found: install Debian's `chromium` package or set CHROME_PATH");
  const browser = await chromium.launch({ executablePath, args: chromeArgs, headless: true });
  try {
    const page = await browser.newPage();
    page.on("console", (msg) => {
      const text = msg.text();
      if (text.startsWith("[bench]")) log(text.slice(8));
      else if (msg.type() === "error" || VERBOSE) log(`page ${msg.type()}: ${text.slice(0, 400)}`);
    });
    page.on("response", (r) => {
      if (r.status() >= 400) log(`HTTP ${r.status()} for ${r.url()}`);
    });
    page.on("pageerror", (e) => log(`uncaught in page: ${e.message}`));
    // A crashed page never posts results: fail at once rather than at the timeout.
    const crashed = new Promise((_, reject) => page.on("crash", () => reject(new Error("the benchmark page crashed"))));
    await page.goto(`${url}bench/kernels.html`);
    const posted = page.waitForFunction(() => "__benchResults" in window, null, {
      timeout: PAGE_TIMEOUT_MS,
      polling: 500,
    });
    await Promise.race([posted, crashed]);
    return await page.evaluate(() => window.__benchResults);
  } finally {
    await browser.close();
  }
}

/** Writes the JSON and the markdown table next to each other and prints the table. */
async function writeResults(server, results) {
  // The table is written by bench/report.ts, loaded through the running Vite server so Node needs no TS loader.
  const { formatReport } = await server.ssrLoadModule("/bench/report.ts");
  const markdown = formatReport(results);
  const dir = join(root, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const stem = join(dir, `kernels-${results.date}`);
  writeFileSync(`${stem}.json`, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(`${stem}.md`, markdown);
  console.log(`\n${markdown}`);
  log(`wrote ${stem}.json and ${stem}.md`);
}

// `--from <results.json>` only redraws the table of an earlier run.
const fromIndex = process.argv.indexOf("--from");
let exitCode = 0;
const { server, url } = await startServer();
try {
  if (fromIndex > 0) {
    await writeResults(server, JSON.parse(readFileSync(process.argv[fromIndex + 1], "utf8")));
  } else {
    log(`serving ${url}bench/kernels.html`);
    const results = await runPage(url);
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

// `npm run bench:prune`: the quality cost of N:M pruning (magnitude, Wanda, SparseGPT; FFN, attention, all linear
// layers) on stories260K, measured in Node with the float64 reference model: bench/prune-quality.ts is loaded through
// a Vite server's SSR loader, so Node needs no TypeScript loader. Writes bench/results/prune-quality-<date>.json and
// .md (into BENCH_OUT when set) and prints the table. BENCH_PRUNE_MODEL=file measures another GGUF; BENCH_PROMPTS=n
// and BENCH_GENERATE=n override the prompt count and continuation length.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { createLog, resultsDir, root, startBenchServer } from "./runner.mjs";

const log = createLog("bench:prune");
const model = process.env.BENCH_PRUNE_MODEL ?? join(root, "..", "shared", "models", "stories260K-f32.gguf");
const overrides = {};
if (process.env.BENCH_PROMPTS) overrides.prompts = Number(process.env.BENCH_PROMPTS);
if (process.env.BENCH_GENERATE) overrides.generate = Number(process.env.BENCH_GENERATE);

const { server } = await startBenchServer({ entries: [] });
try {
  const { runPruneQuality, formatReport } = await server.ssrLoadModule("/bench/prune-quality.ts");
  const results = runPruneQuality(new Uint8Array(readFileSync(model)), basename(model), overrides, log);
  const markdown = formatReport(results);
  const dir = resultsDir();
  mkdirSync(dir, { recursive: true });
  const stem = join(dir, `prune-quality-${results.date}`);
  writeFileSync(`${stem}.json`, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(`${stem}.md`, markdown);
  console.log(`\n${markdown}`);
  log(`wrote ${stem}.json and .md`);
} finally {
  await server.close();
}

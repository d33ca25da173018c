// The readable side of a model benchmark run: results JSON -> markdown (bench/results/model-<date>.md, printed too).
// Runs in Node through Vite's SSR loader (bench/run-model.mjs), so it imports nothing browser-only.
import type { ContenderResult, ModelBenchResults, ModelCaseResult, SkiffResult, WllamaResult } from "./model-types.ts";
import { dash, escape, fixed, num, percent, row } from "./table-format.ts";

function mib(bytes: number | undefined): string {
  return bytes === undefined ? dash : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

function ratio(a: number | undefined, b: number | undefined): string {
  return a === undefined || b === undefined || !(b > 0) || !Number.isFinite(a / b) ? dash : `${(a / b).toFixed(2)}x`;
}

/** One line, at most ~300 characters, pipes escaped: error text for a table cell. */
function cell(text: string): string {
  const short = escape(text);
  return short.length > 300 ? `${short.slice(0, 300)}…` : short;
}

function memoryCell(s: SkiffResult): string {
  if (s.gpuBytes === undefined) return dash;
  return `${mib(s.gpuBytes)} (${mib(s.weightBytes)} + ${mib(s.kvBytes)} KV)`;
}

function notes(r: WllamaResult): string {
  const parts: string[] = [];
  if (r.warning) parts.push(`**${r.warning}**`);
  if (r.setupMs?.load !== undefined) parts.push(`load ${fixed(r.setupMs.load / 1000, 1)} s`);
  if (r.threadsUsed !== undefined) parts.push(`${r.threadsUsed} thread${r.threadsUsed === 1 ? "" : "s"} used`);
  const t = r.serverTimings;
  if (t) {
    parts.push(`llama.cpp timings: prompt ${num(t.promptPerSecond)} tok/s, gen ${num(t.predictedPerSecond)} tok/s`);
    if (t.cachedTokens) parts.push(`${t.cachedTokens} prompt tokens cached`);
  }
  if (r.tokensSameAsSkiff !== undefined && r.run) {
    parts.push(`first ${r.tokensSameAsSkiff} of ${r.run.generatedTokens} tokens as Skiff's`);
  }
  return parts.join("; ");
}

function generationRow(c: ModelCaseResult, x: ContenderResult, memory: string, note: string): string {
  if (x.error || !x.run) return row([c.id, x.name, `failed: ${cell(x.error ?? "no run")}`, "", "", "", "", "", ""]);
  const r = x.run;
  return row([
    c.id,
    x.name,
    String(r.promptTokens),
    String(r.generatedTokens),
    fixed(r.timeToFirstTokenMs, 0),
    num(r.prefillTokensPerSecond),
    num(r.decodeTokensPerSecond),
    memory,
    note,
  ]);
}

function generationTable(r: ModelBenchResults): string[] {
  const lines = [
    row([
      "model",
      "contender",
      "prompt",
      "generated",
      "TTFT ms",
      "prefill tok/s",
      "decode tok/s",
      "GPU memory",
      "notes",
    ]),
    row(["---", "---", "---:", "---:", "---:", "---:", "---:", "---:", "---"]),
  ];
  for (const c of r.cases) {
    if (c.error) lines.push(row([c.id, "(case)", `failed: ${cell(c.error)}`, "", "", "", "", "", ""]));
    if (c.skiff) {
      const note = c.skiff.setupMs?.load !== undefined ? `load ${fixed(c.skiff.setupMs.load / 1000, 1)} s` : "";
      lines.push(generationRow(c, c.skiff, memoryCell(c.skiff), note));
    }
    for (const w of c.wllama) lines.push(generationRow(c, w, "(CPU)", notes(w)));
  }
  return lines;
}

function ratioTable(r: ModelBenchResults): string[] {
  const lines = [
    row(["model", "Skiff vs", "prefill tok/s", "decode tok/s", "TTFT (lower is better)"]),
    row(["---", "---", "---:", "---:", "---:"]),
  ];
  for (const c of r.cases) {
    const s = c.skiff?.run;
    for (const w of c.wllama) {
      const p = w.run;
      lines.push(
        row([
          c.id,
          w.name,
          ratio(s?.prefillTokensPerSecond, p?.prefillTokensPerSecond),
          ratio(s?.decodeTokensPerSecond, p?.decodeTokensPerSecond),
          ratio(s?.timeToFirstTokenMs, p?.timeToFirstTokenMs),
        ]),
      );
    }
  }
  return lines;
}

/** Each pruned case against its dense original (same type, KV heads and seed) in the same run. */
function prunedTable(r: ModelBenchResults): string[] {
  const lines = [
    row(["pruned model", "dense original", "Skiff decode tok/s pruned / dense", "ratio", "prefill ratio"]),
    row(["---", "---", "---:", "---:", "---:"]),
  ];
  for (const c of r.cases) {
    const p = r.spec.cases.find((x) => x.id === c.id)?.prune;
    if (!p) continue;
    const spec = r.spec.cases.find((x) => x.id === c.id)!;
    const original = r.spec.cases.find(
      (x) => !x.prune && x.type === spec.type && x.nKvHeads === spec.nKvHeads && x.seed === spec.seed,
    );
    const d = original && r.cases.find((x) => x.id === original.id)?.skiff?.run;
    const s = c.skiff?.run;
    lines.push(
      row([
        c.id,
        original?.id ?? dash,
        `${num(s?.decodeTokensPerSecond)} / ${num(d?.decodeTokensPerSecond)}`,
        ratio(s?.decodeTokensPerSecond, d?.decodeTokensPerSecond),
        ratio(s?.prefillTokensPerSecond, d?.prefillTokensPerSecond),
      ]),
    );
  }
  if (lines.length === 2) return [];
  lines.push("", "What each pruned matrix shape runs (chosen by the load's tuning; `+dense`: the dense kernel on the");
  lines.push("tensor expanded back to dense planes, where it timed faster than the sparse one):", "");
  for (const c of r.cases) {
    const sparse = Object.entries(c.skiff?.tuning?.choices ?? {}).filter(([k]) => k.startsWith("sparse-"));
    if (sparse.length) lines.push(`- ${c.id}: ${sparse.map(([k, v]) => `\`${k}\` ${v}`).join(", ")}`);
  }
  return lines;
}

function breakdownTable(r: ModelBenchResults): string[] {
  const cases = r.cases.filter((c) => c.breakdown || c.breakdownError);
  if (!cases.length) return ["No decode breakdown was measured."];
  const ops: string[] = [];
  for (const c of cases) for (const g of c.breakdown?.groups ?? []) if (!ops.includes(g.op)) ops.push(g.op);
  const lines = [row(["op", ...cases.map((c) => `${c.id} ms (share)`)]), row(["---", ...cases.map(() => "---:")])];
  const each = (f: (c: ModelCaseResult) => string) => cases.map((c) => (c.breakdown ? f(c) : dash));
  for (const op of ops) {
    lines.push(
      row([
        op,
        ...each((c) => {
          const g = c.breakdown!.groups.find((x) => x.op === op);
          return g ? `${fixed(g.ms, 2)} (${percent(g.share)}) ×${g.nodes}` : dash;
        }),
      ]),
    );
  }
  lines.push(row(["**sum of kernels**", ...each((c) => fixed(c.breakdown!.kernelSumMs, 2))]));
  lines.push(row(["**whole step, one pass**", ...each((c) => fixed(c.breakdown!.stepMs, 2))]));
  lines.push(row(["**step ÷ sum (overhead)**", ...each((c) => `${fixed(c.breakdown!.overhead, 2)}x`)]));
  const source = (c: ModelCaseResult) => (c.breakdown!.source === "timestamp" ? "GPU timestamps" : "wall clock");
  lines.push(row(["kernels and step timed by", ...each(source)]));
  lines.push(row(["whole step, submit + wait (wall clock)", ...each((c) => fixed(c.breakdown!.stepWallMs, 2))]));
  lines.push(row(["engine ms/token (measured decode)", ...each((c) => fixed(c.breakdown!.engineMsPerToken, 1))]));
  for (const c of cases) if (c.breakdownError) lines.push("", `${c.id}: breakdown failed: ${cell(c.breakdownError)}`);
  return lines;
}

export function formatReport(r: ModelBenchResults): string {
  const a = r.adapter;
  const s = r.spec;
  const lines: string[] = [`# Skiff model benchmark, ${r.date}`, ""];
  lines.push(`- Adapter: ${[a.vendor, a.architecture, a.description].filter(Boolean).join(" / ") || "unknown"}`);
  lines.push(
    `- Features: shader-f16 ${r.features.shaderF16 ? "yes" : "no"}, subgroups ${r.features.subgroups ? "yes" : "no"}, ` +
      `timestamp-query ${r.features.timestampQuery ? "yes" : "no"}; CPU adapter: ${a.isCpuAdapter ? "yes" : "no"}`,
  );
  lines.push(
    `- Browser: ${r.userAgent}; cross-origin isolated: ${r.crossOriginIsolated ? "yes" : "no"}; ${r.hardwareConcurrency} cores`,
  );
  if (r.wllamaVersion) lines.push(`- Peer: ${r.wllamaVersion}, n_gpu_layers 0, n_parallel 1, prompt cache off`);
  lines.push(
    `- Models: synthetic Llama GGUFs (syntheticLlamaGguf, random weights), dim ${s.shape.dim}, FFN ${s.shape.hiddenDim}, ` +
      `${s.shape.nLayers} layers, ${s.shape.nHeads} heads, vocabulary ${s.shape.vocabSize}, context ${s.contextLength}`,
  );
  lines.push(
    `- Run: ${s.prompt.tokens} prompt tokens (BOS + ${s.prompt.tokens - 1} seeded letters and digits, i.e. byte tokens: ` +
      `ids for Skiff, the text for wllama, whose API takes text), ${s.generate} generated tokens, ` +
      `greedy, EOS ignored. The generation length is kept at ${s.generate} so the whole run fits ~8 minutes on a ` +
      `2-core machine without a GPU.`,
  );
  lines.push(`- Method: ${r.method}`);
  if (r.loadAverage) {
    lines.push(
      `- Machine load (1-minute average) before / after: ${r.loadAverage.before.toFixed(2)} / ` +
        `${r.loadAverage.after.toFixed(2)} on ${r.hardwareConcurrency} cores (other work on the machine slows ` +
        `both contenders, llama.cpp's spin-waiting threads most)`,
    );
  }
  lines.push(`- Run time: ${r.durationS.toFixed(0)} s`, "");
  if (r.fatal) lines.push(`**The run stopped early:** ${cell(r.fatal)}`, "");
  lines.push("## Generation", "", ...generationTable(r), "");
  lines.push("## Skiff against wllama", "", "Above 1x Skiff is faster (for TTFT: below 1x).", "", ...ratioTable(r), "");
  const pruned = prunedTable(r);
  if (pruned.length) {
    lines.push(
      "## Pruned models against their dense originals (Skiff)",
      "",
      "Skiff stores the pruned matrices N:M-compressed at import and runs its sparse kernels on them.",
      "",
      ...pruned,
      "",
    );
  }
  lines.push(
    "## One decode step, kernel by kernel",
    "",
    "Each graph node's dispatches timed in a compute pass of their own (median of a few runs), summed by op; " +
      "the whole step is the engine's step in one pass. The engine's ms/token adds submitting, waiting and " +
      "reading back the token id.",
    "",
    ...breakdownTable(r),
    "",
  );
  return lines.join("\n");
}

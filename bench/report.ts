// The readable side of a benchmark run: results JSON -> markdown (bench/results/kernels-<date>.md, printed too).
// Runs in Node through Vite's SSR loader (bench/run-kernels.mjs), so it imports nothing browser-only.
import type { BenchResults, ContenderResult, RatioResult } from "./types.ts";
import { dash, escape, fixed, num, percent, row } from "./table-format.ts";

/** Error text for a table cell: one line, build-machine paths cut, at most ~200 characters. */
function errorCell(text: string): string {
  const short = escape(
    text.replace(/\/\S*\/onnxruntime\//g, "onnxruntime/").replace(/onnxruntime::[\w:]+\([^)]*\)\s*/g, ""),
  );
  return short.length > 200 ? `${short.slice(0, 200)}…` : short;
}

function msCell(r: ContenderResult): string {
  if (!r.wall) return dash;
  const n = r.wall.warmupCounted ? "n=1, warm-up" : `n=${r.wall.samplesMs.length}`;
  return `${fixed(r.wall.medianMs, 2)} (${n})`;
}

function gpuCell(r: ContenderResult): string {
  if (!r.gpu) return dash;
  return r.gpu.source === "timestamp" ? fixed(r.gpu.medianMs, 2) : `${fixed(r.gpu.medianMs, 2)} (wall)`;
}

function contenderName(r: ContenderResult): string {
  return r.isDefault ? `**${r.name}** (default)` : r.name;
}

function ratioValue(r: RatioResult, value: number | undefined): string {
  return value === undefined ? dash : r.against === "copy" ? percent(value) : `${value.toFixed(2)}x`;
}

function ratioRow(r: RatioResult): string {
  const target = r.against === "copy" ? `≥ ${percent(r.target)}` : `≥ ${r.target}x`;
  const met = r.met === undefined ? dash : r.met ? "yes" : "no";
  const floor = r.floor ? `${ratioValue(r, r.floor.value)} (${r.floor.met ? "reachable" : "out of reach"})` : dash;
  return row([r.name, ratioValue(r, r.value), target, met, floor, escape(r.detail)]);
}

export function formatReport(r: BenchResults): string {
  const lines: string[] = [];
  const a = r.adapter;
  lines.push(`# Skiff kernel benchmark, ${r.date}`, "");
  lines.push(`- Adapter: ${[a.vendor, a.architecture, a.description].filter(Boolean).join(" / ") || "unknown"}`);
  lines.push(
    `- Features: shader-f16 ${r.features.shaderF16 ? "yes" : "no"}, subgroups ${r.features.subgroups ? "yes" : "no"}, ` +
      `timestamp-query ${r.features.timestampQuery ? "yes" : "no"}; CPU adapter: ${a.isCpuAdapter ? "yes" : "no"}`,
  );
  lines.push(`- Browser: ${r.userAgent}`);
  lines.push(`- Method: ${r.method}`);
  for (const p of r.peers) lines.push(`- Peer: ${p}`);
  const c = r.copy;
  lines.push(
    c.error
      ? `- Copy shader: failed: ${c.error}`
      : `- Copy shader (${(c.bytes / 2 ** 20).toFixed(0)} MiB, read + write counted): ${fixed(c.gbps, 2)} GB/s wall clock ` +
          `(${fixed(c.wall?.medianMs, 2)} ms), ${fixed(c.gpuGbps, 2)} GB/s by ` +
          `${c.gpu?.source === "timestamp" ? "GPU timestamps" : "wall clock (no timestamps)"}`,
  );
  lines.push(`- Run time: ${r.durationS.toFixed(0)} s`, "");
  if (r.fatal) lines.push(`**The run stopped early:** ${escape(r.fatal)}`, "");

  lines.push("## Headline ratios", "");
  lines.push(row(["ratio", "value", "target", "met", "with no weight loads", "compared"]));
  lines.push(row(["---", "---:", "---:", "---", "---:", "---"]));
  for (const ratio of r.ratios) lines.push(ratioRow(ratio));
  lines.push("");
  if (r.ratios.some((ratio) => ratio.floor)) {
    lines.push(
      "With no weight loads: the same ratio with Skiff's kernel replaced by its arithmetic floor, the kernel with " +
        "every weight read replaced by a word made from its index (bench/arithmetic-floor.ts). Out of reach: not " +
        "even free weight bytes meet the target with this arithmetic on this device.",
      "",
    );
  }

  lines.push("## Kernels", "");
  lines.push(
    "Wall = median ms around submit + wait (all contenders). GPU = median ms by timestamps (Skiff, tfjs).",
    "",
  );
  lines.push(row(["case", "contender", "wall ms", "GPU ms", "GFLOP/s", "GB/s", "of copy", "GPU GB/s", "GPU of copy"]));
  lines.push(row(["---", "---", "---:", "---:", "---:", "---:", "---:", "---:", "---:"]));
  for (const cr of r.cases) {
    if (cr.error) lines.push(row([cr.title, "(case)", `failed: ${errorCell(cr.error)}`, "", "", "", "", "", ""]));
    for (const x of cr.contenders) {
      if (x.error) {
        lines.push(row([cr.title, contenderName(x), `failed: ${errorCell(x.error)}`, "", "", "", "", "", ""]));
        continue;
      }
      lines.push(
        row([
          cr.title,
          contenderName(x),
          msCell(x),
          gpuCell(x),
          num(x.gflops),
          num(x.gbps),
          percent(x.copyFraction),
          num(x.gpuGbps),
          percent(x.gpuCopyFraction),
        ]),
      );
    }
  }
  lines.push("");
  if (r.loadErrors.length) {
    lines.push("## Peers that failed to load", "");
    for (const e of r.loadErrors) lines.push(`- ${e.peer}: ${errorCell(e.error)}`);
    lines.push("");
  }
  lines.push(
    "GB/s counts the bytes of weights each contender reads in its own format (KV cache for attention); " +
      "on a CPU adapter only ratios from one run mean anything.",
    "",
  );
  return lines.join("\n");
}

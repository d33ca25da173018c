// The readable side of an adaptive-compute benchmark run: results JSON -> markdown (bench/results/ffn-skip-<date>.md,
// printed too). Runs in Node through Vite's SSR loader (bench/run-ffn-skip.mjs), so it imports nothing browser-only.
import type { AdaptiveBenchResults, AdaptiveModelResult } from "./ffn-skip-types.ts";
import { dash, fixed, num, percent, row } from "./table-format.ts";

function sweepTable(m: AdaptiveModelResult): string[] {
  const lines = [
    row([
      "threshold",
      "skipped (all / unprotected)",
      "greedy agreement",
      "agreed prefix",
      "teacher-forced top-1",
      "mean KL (nats)",
      "decode tok/s",
      "speed-up",
    ]),
    row(Array(8).fill("---")),
  ];
  for (const p of m.sweep) {
    lines.push(
      row([
        p.policy
          ? `${p.threshold}, engine defaults (cap ${p.policy.maxSkipFraction})`
          : p.threshold > 1
            ? `${p.threshold} (skips nothing)`
            : String(p.threshold),
        `${percent(p.skipRatio)} / ${percent(p.skipRatioUnprotected)}`,
        percent(p.agreement),
        fixed(p.meanAgreedPrefix, 1),
        percent(p.teacherTop1),
        p.meanKl === 0 ? "0" : p.meanKl.toExponential(2),
        num(p.decodeTokensPerSecond),
        `${fixed(p.speedup, 2)}x`,
      ]),
    );
  }
  return lines;
}

function speculativeTable(m: AdaptiveModelResult): string[] {
  const lines = [
    row([
      "drafter",
      "draft length",
      "acceptance",
      "tokens / verify pass",
      "passes",
      "plain tokens",
      "ms / round",
      "ms / plain token (in run)",
      "break-even acceptance (vs dense)",
      "decode tok/s",
      "speed-up",
      "≠ plain greedy",
    ]),
    row(Array(12).fill("---")),
  ];
  for (const p of m.speculative) {
    const be = p.breakEvenAcceptance;
    lines.push(
      row([
        p.drafter,
        p.mode,
        percent(p.acceptanceRate),
        fixed(p.tokensPerPass, 2),
        String(p.verifyPasses),
        String(p.plainTokens),
        fixed(p.msPerRound, 1),
        fixed(p.msPerPlainToken, 2),
        be === undefined ? dash : Number.isFinite(be) ? percent(be) : "none (round > k+1 plain steps)",
        num(p.decodeTokensPerSecond),
        `${fixed(p.speedup, 2)}x`,
        String(p.mismatches),
      ]),
    );
  }
  return lines;
}

export function formatReport(r: AdaptiveBenchResults): string {
  const out = [
    `# Adaptive compute: FFN skipping and speculative decoding (${r.date})`,
    "",
    `Adapter: ${r.adapter}. ${r.spec.prompts.count} prompts x ${r.spec.generate} greedy tokens per point; policy ` +
      `${JSON.stringify(r.spec.policy)}. Agreement compares GPU outputs with dense GPU greedy output index by index ` +
      "(free running, so one early difference changes the rest); teacher-forced figures run the float64 reference with " +
      "the same policy on dense's own tokens. Speed-ups are decode tokens/s against dense in the same run.",
    "",
  ];
  if (r.fatal) out.push(`**Failed:** ${r.fatal}`, "");
  for (const m of r.models) {
    out.push(`## ${m.id} (${m.nLayers} layers)`, "");
    if (m.error) out.push(`**Failed:** ${m.error}`, "");
    out.push(
      `Dense decode: ${num(m.denseDecodeTokensPerSecond)} tok/s (${fixed(1000 / m.denseDecodeTokensPerSecond, 2)} ms per token).`,
      "",
    );
    out.push("### FFN-skip threshold sweep", "", ...sweepTable(m), "");
    out.push(
      m.knee === undefined
        ? "Knee: no threshold skips anything while keeping teacher-forced top-1 agreement at 90% or more."
        : `Knee (most skipping with teacher-forced top-1 >= 90%): threshold ${m.knee}.`,
      "",
    );
    out.push("### Speculative decoding (greedy)", "", ...speculativeTable(m), "");
  }
  out.push(`Took ${fixed(r.durationS, 0)} s.`, "");
  return out.join("\n");
}

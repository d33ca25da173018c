// Markdown report of the tuning benchmark: load times with and without tuning, then per op and shape every
// candidate's time in the first load's measurement and in the independent re-measurement, the choice, and how far
// the choice is from the fastest variant of the re-measurement.
import type { TuneRecord } from "../src/kernels/tuning.ts";
import { choiceName } from "../src/kernels/tuning.ts";
import { dash, escape, fixed, num, row } from "./table-format.ts";
import type { TuneBenchResults, TuneCaseResult } from "./tune-types.ts";

const seconds = (ms: number | undefined) => (ms === undefined ? dash : `${fixed(ms / 1000, 2)} s`);

/** The chosen candidate's time over the fastest one's, both from the re-measurement. */
export function choiceRatio(chosen: string, check: TuneRecord): number | undefined {
  const times = check.candidates.filter((c) => c.ms !== null).map((c) => c.ms as number);
  const mine = check.candidates.find((c) => choiceName(c.choice) === chosen)?.ms;
  return mine === undefined || mine === null ? undefined : mine / Math.min(...times);
}

function caseTable(c: TuneCaseResult): string[] {
  const lines = [
    `### ${escape(c.title)}`,
    "",
    `Load with tuning skipped ${seconds(c.loadSkipMs)}; first load ${seconds(c.loadFirstMs)} ` +
      `(tuning ${seconds(c.tuningMs)}, ${c.measured ?? dash} op shapes measured); ` +
      `later load ${seconds(c.loadLaterMs)} (${c.laterMeasured ?? dash} measured).`,
    "",
  ];
  if (c.error) lines.push(`Failed: ${escape(c.error)}`, "");
  lines.push(
    row(["op and shape", "candidate", "first load ms (runs)", "re-measured ms (runs)", "chosen", "chosen / fastest"]),
  );
  lines.push(row(["---", "---", "---:", "---:", ":---:", "---:"]));
  const first = new Map((c.first ?? []).map((r) => [r.key, r]));
  // Every op the re-measurement timed, with what the first load measured (narrower on a CPU adapter) and chose.
  for (const again of c.check ?? []) {
    const r = first.get(again.key);
    const chosen = c.choices?.[again.key];
    const ratio = chosen === undefined ? undefined : choiceRatio(chosen, again);
    for (const [i, re] of again.candidates.entries()) {
      const name = choiceName(re.choice);
      const before = r?.candidates.find((x) => choiceName(x.choice) === name);
      lines.push(
        row([
          i === 0 ? again.key : "",
          name,
          before === undefined ? dash : before.ms === null ? "failed" : `${num(before.ms)} (${before.runs})`,
          re.ms === null ? "failed" : `${num(re.ms)} (${re.runs})`,
          name === chosen ? "✓" : "",
          i === 0 ? fixed(ratio, 2) : "",
        ]),
      );
    }
  }
  return lines;
}

export function formatReport(results: TuneBenchResults): string {
  const lines = [`# Skiff kernel tuning, ${results.date}`, ""];
  if (results.adapter) lines.push(`Adapter: ${escape(JSON.stringify(results.adapter))}`, "");
  if (results.fatal) lines.push(`Failed: ${escape(results.fatal)}`, "");
  for (const c of results.cases) lines.push(...caseTable(c), "");
  return `${lines.join("\n")}\n`;
}

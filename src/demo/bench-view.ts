// The demo's benchmark view: the newest `skiff bench` kernel results as bars, Skiff's default kernel against the
// fastest peer of each case (wall-clock median, shorter is faster). Labels are text nodes.
import { el } from "./format.ts";

interface Contender {
  name: string;
  family: string;
  isDefault?: boolean;
  wall?: { medianMs: number };
  error?: string;
}
interface BenchCase {
  title: string;
  contenders: Contender[];
}
interface KernelResults {
  date: string;
  adapter: { vendor: string; architecture: string };
  cases: BenchCase[];
}

const results = import.meta.glob<KernelResults>("/bench/results/kernels-*.json", { import: "default" });

export async function showBenchmarks(container: HTMLElement): Promise<void> {
  const newest = Object.keys(results).sort().at(-1);
  if (!newest) {
    container.replaceChildren(el("p", "No benchmark results yet: run `npm run bench` and reload."));
    return;
  }
  const data = await results[newest]();
  const rows: HTMLElement[] = [
    el(
      "p",
      `From ${newest.split("/").pop()} (${data.adapter.vendor} ${data.adapter.architecture}); median wall-clock ms, shorter is faster.`,
      "stats",
    ),
  ];
  for (const c of data.cases) {
    const timed = c.contenders.filter((x) => x.wall && !x.error);
    const skiff = timed.find((x) => x.family === "skiff" && x.isDefault) ?? timed.find((x) => x.family === "skiff");
    const peer = timed.filter((x) => x.family !== "skiff").sort((a, b) => a.wall!.medianMs - b.wall!.medianMs)[0];
    const bars = [skiff, peer].filter((x): x is Contender => x !== undefined);
    if (bars.length === 0) continue;
    const longest = Math.max(...bars.map((b) => b.wall!.medianMs));
    const group = el("div", "", "bench-case");
    group.append(el("h3", c.title));
    for (const b of bars) {
      const bar = el("div", "", `bar ${b.family === "skiff" ? "skiff" : "peer"}`);
      bar.style.width = `${Math.max(2, (100 * b.wall!.medianMs) / longest)}%`;
      const row = el("div", "", "bench-row");
      row.append(el("span", b.name, "who"), bar, el("span", `${b.wall!.medianMs.toFixed(1)} ms`, "ms"));
      group.append(row);
    }
    rows.push(group);
  }
  container.replaceChildren(...rows);
}

// A small dependency-free SVG bar chart of benchmark results: per case, Skiff's default against the fastest peer
// measured in the same run (kernels: wall-clock median ms, lower is better; models: decode tok/s, higher is better).

const WIDTH = 900;
const LABEL_W = 320;
/** Room right of the longest bar for its value and name. */
const TEXT_W = 280;
const LABEL_CHARS = 46;
const BAR_H = 16;
const GAP = 4;
const ROW_PAD = 14;
const COLOURS = { skiff: "#0b7285", peer: "#adb5bd" };

const escape = (s) =>
  String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

const clip = (s) => (s.length > LABEL_CHARS ? `${s.slice(0, LABEL_CHARS - 1)}…` : s);

/** rows: [{ label, bars: [{ name, value, kind: "skiff" | "peer" }] }]; values in `unit`. */
export function barChart({ title, unit, rows }) {
  const max = Math.max(1e-9, ...rows.flatMap((r) => r.bars.map((b) => b.value)));
  const scale = (WIDTH - LABEL_W - TEXT_W) / max;
  const parts = [];
  let y = 40;
  for (const row of rows) {
    const h = Math.max(1, row.bars.length) * (BAR_H + GAP);
    parts.push(`<text x="8" y="${y + 12}" class="case">${escape(clip(row.label))}</text>`);
    if (row.bars.length === 0) parts.push(`<text x="${LABEL_W}" y="${y + 12}" class="value">no result</text>`);
    row.bars.forEach((b, i) => {
      const by = y + i * (BAR_H + GAP);
      const w = Math.max(1, b.value * scale);
      const digits = b.value >= 100 ? 0 : b.value >= 10 ? 1 : 2;
      parts.push(
        `<rect x="${LABEL_W}" y="${by}" width="${w.toFixed(1)}" height="${BAR_H}" fill="${COLOURS[b.kind]}"/>`,
        `<text x="${(LABEL_W + w + 6).toFixed(1)}" y="${by + 12}" class="value">${b.value.toFixed(digits)} ${escape(unit)} · ${escape(b.name)}</text>`,
      );
    });
    y += h + ROW_PAD;
  }
  const height = y + 24;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<style>.case{fill:#212529}.value{fill:#495057;font-size:11px}.title{font-weight:bold;font-size:14px}</style>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="8" y="22" class="title">${escape(title)}</text>`,
    ...parts,
    `<rect x="8" y="${height - 18}" width="10" height="10" fill="${COLOURS.skiff}"/>`,
    `<text x="22" y="${height - 9}" class="value">Skiff (default)</text>`,
    `<rect x="120" y="${height - 18}" width="10" height="10" fill="${COLOURS.peer}"/>`,
    `<text x="134" y="${height - 9}" class="value">fastest peer in the same run</text>`,
    `</svg>`,
    "",
  ].join("\n");
}

const timed = (c) => c.wall && !c.error;
const median = (c) => c.wall.medianMs;

/** Kernels: Skiff's default variant (else its fastest) vs the fastest non-Skiff contender, wall median ms. */
export function kernelChart(results) {
  const rows = results.cases.map((cr) => {
    const skiff = cr.contenders.filter((c) => c.family === "skiff" && !c.floor && timed(c));
    const mine = skiff.find((c) => c.isDefault) ?? skiff.sort((a, b) => median(a) - median(b))[0];
    const peer = cr.contenders.filter((c) => c.family !== "skiff" && timed(c)).sort((a, b) => median(a) - median(b))[0];
    const bars = [];
    if (mine) bars.push({ name: mine.name, value: median(mine), kind: "skiff" });
    if (peer) bars.push({ name: peer.name, value: median(peer), kind: "peer" });
    return { label: cr.title, bars };
  });
  return barChart({ title: `Kernels, ${results.date}: wall-clock median, lower is better`, unit: "ms", rows });
}

/** Models: Skiff's decode tok/s vs the fastest wllama flavour's. */
export function modelChart(results) {
  const rows = results.cases.map((cr) => {
    const bars = [];
    if (cr.skiff?.run) bars.push({ name: "Skiff", value: cr.skiff.run.decodeTokensPerSecond, kind: "skiff" });
    const peer = cr.wllama
      .filter((w) => w.run)
      .sort((a, b) => b.run.decodeTokensPerSecond - a.run.decodeTokensPerSecond)[0];
    if (peer) bars.push({ name: peer.name, value: peer.run.decodeTokensPerSecond, kind: "peer" });
    return { label: cr.id === cr.title ? cr.id : `${cr.id}: ${cr.title}`, bars };
  });
  return barChart({ title: `Models, ${results.date}: decode tokens/s, higher is better`, unit: "tok/s", rows });
}

/** The chart for a results file by its name ("kernels" or "model"); the other reports are tables only. */
export function chartFor(name, results) {
  if (name === "kernels") return kernelChart(results);
  return name === "model" ? modelChart(results) : undefined;
}

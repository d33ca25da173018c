// Markdown cell formatting shared by the kernel and model reports.

export const dash = "–";

export function fixed(v: number | undefined, digits: number): string {
  return v === undefined || !Number.isFinite(v) ? dash : v.toFixed(digits);
}

/** Three significant digits at most, so 0.004 GB/s does not print as 0.00 nor 0.42 tok/s as 0. */
export function num(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return dash;
  if (v >= 100) return v.toFixed(0);
  if (v >= 0.01) return v.toPrecision(3);
  return v === 0 ? "0" : v.toExponential(1);
}

export function percent(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return dash;
  return v >= 0.1 ? `${(v * 100).toFixed(0)}%` : `${(v * 100).toPrecision(2)}%`;
}

/** Pipes escaped and whitespace folded, so any text fits one table cell. */
export function escape(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\s+/g, " ");
}

export function row(cells: string[]): string {
  return `| ${cells.join(" | ")} |`;
}

// The `skiff` command line: golden ids as JSON, exit codes 2 (bad arguments) and 3 (model errors), and a quick
// `skiff bench` run that writes its JSON, table and chart.
import { expect, test } from "@playwright/test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import golden from "../src/reference/fixtures/stories260k-golden.json" with { type: "json" };

const MODEL = "../shared/models/stories260K-f32.gguf";

function skiff(...args: string[]) {
  const r = spawnSync(process.execPath, ["bin/skiff.mjs", ...args], { encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("skiff generate --json prints the golden greedy ids", () => {
  const r = skiff("generate", MODEL, "--prompt-ids", "1", "--max-tokens", "50", "--temperature", "0", "--json");
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const out = JSON.parse(r.stdout);
  expect(out.ids).toEqual(golden.ids);
  expect(out.stats.decodeTokensPerSecond).toBeGreaterThan(0);
  expect(typeof out.text).toBe("string");
});

test("skiff generate streams text without --json", () => {
  const r = skiff("generate", MODEL, "--prompt", "Hi", "--max-tokens", "8", "--seed", "3");
  expect(r.code).toBe(0);
  expect(r.stdout.length).toBeGreaterThan(1);
});

test("a missing or corrupt model exits 3 with one line", () => {
  const missing = skiff("generate", "no/such/model.gguf", "--max-tokens", "2");
  expect(missing.code).toBe(3);
  expect(missing.stderr).toMatch(/^skiff: cannot read model file .*model\.gguf\n$/);
  const dir = mkdtempSync(join(tmpdir(), "skiff-cli-"));
  const corrupt = join(dir, "corrupt.gguf");
  writeFileSync(corrupt, Buffer.from("GGUF\x03\x00\x00\x00garbage that is not a header"));
  const bad = skiff("generate", corrupt, "--max-tokens", "2");
  expect(bad.code).toBe(3);
  expect(bad.stderr).toMatch(/^skiff: bad-gguf: .*\n$/);
});

test("bad flags exit 2 with the usage", () => {
  for (const args of [
    ["generate", MODEL, "--max-tokens", "zero"],
    ["generate", MODEL, "--no-such-flag"],
    ["generate"],
    ["frobnicate"],
    ["generate", MODEL, "--prompt", "a", "--prompt-ids", "1"],
  ]) {
    const r = skiff(...args);
    expect(r.code, args.join(" ")).toBe(2);
    expect(r.stderr).toMatch(/^skiff: /);
  }
});

test("skiff bench --kernels --quick --json writes JSON, table and chart and prints the results", () => {
  const out = mkdtempSync(join(tmpdir(), "skiff-bench-"));
  const r = skiff("bench", "--kernels", "--quick", "--out", out, "--json");
  expect(r.code, r.stderr).toBe(0);
  const printed = JSON.parse(r.stdout);
  expect(Object.keys(printed)).toEqual(["kernels"]);
  const files = readdirSync(out).sort();
  const stem = `kernels-${printed.kernels.date}`;
  expect(files).toEqual([`${stem}.json`, `${stem}.md`, `${stem}.svg`]);
  expect(JSON.parse(readFileSync(join(out, `${stem}.json`), "utf8"))).toEqual(printed.kernels);
  // Real kernels ran: every case has a timed Skiff contender, and no peer (no --peers).
  expect(printed.kernels.fatal).toBeUndefined();
  expect(printed.kernels.cases.length).toBeGreaterThan(0);
  for (const c of printed.kernels.cases) {
    expect(
      c.contenders.some(
        (x: { family: string; wall?: { medianMs: number } }) => x.family === "skiff" && x.wall!.medianMs > 0,
      ),
    ).toBe(true);
    expect(c.contenders.every((x: { family: string }) => x.family === "skiff")).toBe(true);
  }
  // The quick Q4_0 GEMV's arithmetic floor compiled and ran on the device with its weight reads replaced.
  const floors = printed.kernels.cases
    .flatMap((c: { contenders: unknown[] }) => c.contenders)
    .filter((x: { floor?: boolean }) => x.floor);
  expect(floors).toHaveLength(1);
  expect(floors[0].error).toBeUndefined();
  expect(floors[0].wall.medianMs).toBeGreaterThan(0);
  expect(readFileSync(join(out, `${stem}.md`), "utf8")).toMatch(/^# Skiff kernel benchmark/);
  const svg = readFileSync(join(out, `${stem}.svg`), "utf8");
  expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  // Background, one Skiff bar per case, two legend swatches.
  expect((svg.match(/<rect /g) ?? []).length).toBe(3 + printed.kernels.cases.length);
});

test("skiff bench: a missing model exits 3, a bad flag exits 2", () => {
  const missing = skiff("bench", "--model", "missing.gguf");
  expect(missing.code).toBe(3);
  expect(missing.stderr).toMatch(/^skiff: cannot read model file .*missing\.gguf\n$/);
  for (const args of [
    ["bench", "--bogus"],
    ["bench", "stray"],
    ["bench", "--out"],
  ]) {
    const r = skiff(...args);
    expect(r.code, args.join(" ")).toBe(2);
    expect(r.stderr).toMatch(/^skiff: /);
  }
});

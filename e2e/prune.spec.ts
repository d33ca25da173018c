// `skiff prune`: stories260K pruned to 2:4 (magnitude, SparseGPT, and Wanda with a calibration file) exits 0 with a
// summary and writes a GGUF of the same size; bad arguments exit 2 naming them; missing files and unprunable shapes
// exit 3.
import { expect, test } from "@playwright/test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const MODEL = "../shared/models/stories260K-f32.gguf";
const Q4 = "../shared/models/stories260K-q4_0.gguf";

function skiff(...args: string[]) {
  const r = spawnSync(process.execPath, ["bin/skiff.mjs", ...args], { encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("skiff prune writes a 2:4 copy of stories260K (magnitude, SparseGPT, and Wanda with a calibration file)", () => {
  const dir = mkdtempSync(join(tmpdir(), "skiff-prune-"));
  const out = join(dir, "pruned.gguf");
  const r = skiff("prune", MODEL, out, "--pattern", "2:4");
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/^pruned 35 tensors to 2:4 \(magnitude\): 113280 of 226560 weights are zero \(50\.0%\)/);
  expect(statSync(out).size).toBe(statSync(MODEL).size);
  // The header (magic, counts, metadata) is copied as it was.
  expect(readFileSync(out).subarray(0, 4096).equals(readFileSync(MODEL).subarray(0, 4096))).toBe(true);

  const sparseGpt = skiff("prune", MODEL, join(dir, "sparsegpt.gguf"), "--pattern", "2:4", "--method", "sparsegpt");
  expect(sparseGpt.code, sparseGpt.stderr).toBe(0);
  expect(sparseGpt.stdout).toMatch(
    /^pruned 35 tensors to 2:4 \(sparsegpt, 512 calibration tokens\): 113280 of 226560 weights are zero \(50\.0%\)/,
  );
  expect(statSync(join(dir, "sparsegpt.gguf")).size).toBe(statSync(MODEL).size);

  const ids = join(dir, "calibration.json");
  writeFileSync(
    ids,
    JSON.stringify([
      [1, 300, 301, 302],
      [1, 42],
    ]),
  );
  const wanda = skiff(
    "prune",
    Q4,
    join(dir, "wanda.gguf"),
    "--pattern",
    "1:4",
    "--method",
    "wanda",
    "--tensors",
    "ffn",
    "--calibration-ids",
    ids,
  );
  expect(wanda.code, wanda.stderr).toBe(0);
  expect(wanda.stdout).toMatch(/^pruned 15 tensors to 1:4 \(wanda, 6 calibration tokens\)/);
});

test("bad prune arguments exit 2 with a message naming them", () => {
  const dir = mkdtempSync(join(tmpdir(), "skiff-prune-"));
  const out = join(dir, "out.gguf");
  const notJson = join(dir, "ids.json");
  writeFileSync(notJson, "[[1, 2,");
  const outOfRange = join(dir, "range.json");
  writeFileSync(outOfRange, "[[1, 9999]]");
  for (const [args, message] of [
    [["--pattern", "3:2"], /pattern "3:2" is not supported/],
    [["--pattern", "0:4"], /pattern "0:4"/],
    [["--pattern", "2:4", "--tensors", "mlp"], /unknown tensor group "mlp"/],
    [["--pattern", "2:4", "--method", "obs"], /unknown pruning method "obs"/],
    [[], /needs --pattern/],
    [["--pattern", "2:4", "--calibration-ids", notJson], /is not JSON/],
    [["--pattern", "2:4", "--method", "wanda", "--calibration-ids", outOfRange], /9999/],
    [["--pattern", "2:4", "--calibration-ids", outOfRange], /only apply to --method wanda/],
    [["--pattern", "2:4", "--bogus"], /bogus/],
  ] as const) {
    const r = skiff("prune", MODEL, out, ...args);
    expect(r.code, args.join(" ")).toBe(2);
    expect(r.stderr).toMatch(/^skiff: /);
    expect(r.stderr).toMatch(message);
  }
  const one = skiff("prune", MODEL, "--pattern", "2:4");
  expect(one.code).toBe(2);
  expect(one.stderr).toMatch(/^skiff: prune needs an input and an output GGUF file\n$/);
});

test("a missing model or a shape the pattern does not fit exits 3", () => {
  const out = join(mkdtempSync(join(tmpdir(), "skiff-prune-")), "out.gguf");
  const missing = skiff("prune", "no/such/model.gguf", out, "--pattern", "2:4");
  expect(missing.code).toBe(3);
  expect(missing.stderr).toMatch(/^skiff: cannot read model file .*model\.gguf\n$/);
  // FFN down rows are 172 long: not whole groups of 8.
  const shape = skiff("prune", MODEL, out, "--pattern", "2:8");
  expect(shape.code).toBe(3);
  expect(shape.stderr).toMatch(/^skiff: bad-shape: Tensor blk\.0\.ffn_down\.weight has rows of 172/);
});

test("prune, then import in the demo: the model card lists the sparse matrices and the model generates", async ({
  page,
}) => {
  const out = join(mkdtempSync(join(tmpdir(), "skiff-prune-")), "stories260K-2of4-ffn.gguf");
  const r = skiff("prune", MODEL, out, "--pattern", "2:4", "--tensors", "ffn");
  expect(r.code, r.stderr).toBe(0);
  await page.goto("/");
  await expect(page.locator("#status")).toHaveText(/is ready/, { timeout: 60_000 });
  await page.setInputFiles("#file", out);
  await expect(page.locator("#status")).toHaveText(/stories260K-2of4-ffn\.gguf is ready/, { timeout: 60_000 });
  const row = page.locator("#models li", { hasText: "stories260K-2of4-ffn.gguf" });
  // stories260K has 5 layers: gate, up and down of each are 2:4 now; attention and the embedding stay dense.
  await expect(row.getByTestId("sparse-summary")).toHaveText("15 sparse matrices (2:4)");
  await row.getByTestId("sparse-summary").click();
  await expect(row.locator("details li")).toHaveCount(15);
  await expect(row.locator("details li").first()).toHaveText("layers.0.wGate: 2:4 f32");
  // The embedded model, not pruned, has no card.
  await expect(
    page.locator("#models li", { hasText: "stories260K-f32.gguf" }).getByTestId("sparse-summary"),
  ).toHaveCount(0);
  await page.fill("#max-tokens", "16");
  await page.click("#generate");
  await expect(page.locator("#stats")).toContainText("decode", { timeout: 60_000 });
  expect((await page.locator("#output").textContent())!.length).toBeGreaterThan(0);
});

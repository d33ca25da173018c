// Adaptive compute through every face of the engine: the demo's settings panel and FFN map, the <skiff-chat>
// element's `ffn-skip` and `speculative` attributes, and `skiff generate --ffn-skip` / `--speculative`.
import { spawnSync } from "node:child_process";
import { expect, test } from "@playwright/test";
import golden from "../src/reference/fixtures/stories260k-golden.json" with { type: "json" };

const MODEL = "../shared/models/stories260K-f32.gguf";

function skiff(...args: string[]) {
  const r = spawnSync(process.execPath, ["bin/skiff.mjs", ...args], { encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("demo: FFN skipping from the settings panel shows skipped blocks on the map and the skip ratio", async ({
  page,
}) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto("/");
  await expect(page.locator("#status")).toHaveText(/is ready/, { timeout: 60_000 });
  await page.fill("#max-tokens", "24");
  await page.fill("#temperature", "0");
  await page.check("#ffn-skip");
  // stories260K's blocks measure about 0.7 to 0.9: this threshold skips some of them.
  await page.fill("#ffn-skip-threshold", "0.7");
  await page.fill("#ffn-skip-warmup", "2");
  await page.click("#generate");
  await expect(page.locator("#stats")).toContainText("FFN blocks skipped", { timeout: 60_000 });
  const cells = await page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>("#ffn-map")!;
    const data = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height).data;
    let ran = 0;
    let skipped = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i] === 0x2e && data[i + 1] === 0x86 && data[i + 2] === 0xde) ran++;
      if (data[i] === 0xdf && data[i + 1] === 0xe6 && data[i + 2] === 0xe9) skipped++;
    }
    return { ran, skipped };
  });
  expect(cells.ran).toBeGreaterThan(0);
  expect(cells.skipped).toBeGreaterThan(0);

  // Speculative decoding from the panel: greedy output as without it.
  await page.uncheck("#ffn-skip");
  await page.click("#generate");
  // The stats line of this run is the first since the box was unticked without the skip ratio.
  await expect(page.locator("#stats")).not.toContainText("FFN blocks skipped", { timeout: 60_000 });
  await expect(page.locator("#stats")).toContainText("stopped");
  const plain = await page.locator("#output").textContent();
  await page.selectOption("#speculative", "ngram");
  await page.click("#generate");
  await expect(page.locator("#stats")).toContainText("ngram drafts accepted", { timeout: 60_000 });
  expect(await page.locator("#output").textContent()).toBe(plain);
  expect(errors).toEqual([]);
});

test("<skiff-chat ffn-skip>: token events carry the FFN map; speculative='ngram' keeps greedy output", async ({
  page,
}) => {
  await page.route("**/adaptive-test.html", (route) =>
    route.fulfill({
      contentType: "text/html",
      body: `<!doctype html><html><head><meta charset="utf-8"><script type="module" src="/src/element/index.ts"></script></head><body>
        <skiff-chat id="skip" model="/models/stories260K-f32.gguf" max-tokens="20" temperature="0"
          ffn-skip ffn-skip-threshold="0.7" ffn-skip-warmup="2"></skiff-chat>
        <skiff-chat id="spec" model="/models/stories260K-f32.gguf" max-tokens="20" temperature="0"
          speculative="ngram" max-draft="3"></skiff-chat>
        <skiff-chat id="plain" model="/models/stories260K-f32.gguf" max-tokens="20" temperature="0"></skiff-chat>
      </body></html>`,
    }),
  );
  await page.goto("/adaptive-test.html");
  const run = (id: string) =>
    page.evaluate(async (id) => {
      const chat = document.getElementById(id) as HTMLElement & {
        ready: Promise<unknown>;
        generate(p: string): Promise<{ tokenIds: number[]; stats: { ffnSkip?: { skipRatio: number } } }>;
      };
      await chat.ready;
      const maps: (boolean[] | undefined)[] = [];
      chat.addEventListener("skiff-token", (e) => maps.push((e as CustomEvent).detail.ffnRan));
      const r = await chat.generate("Once upon a time");
      return { ids: r.tokenIds, ffnSkip: r.stats.ffnSkip, maps };
    }, id);
  const skip = await run("skip");
  expect(skip.ffnSkip?.skipRatio).toBeGreaterThan(0);
  expect(skip.maps.filter((m) => m).length).toBe(skip.ids.length);
  expect(skip.maps.some((m) => m?.includes(false))).toBe(true);
  const spec = await run("spec");
  const plain = await run("plain");
  expect(spec.ids).toEqual(plain.ids);
  expect(plain.maps.every((m) => m === undefined)).toBe(true);
});

test("skiff generate: --ffn-skip that skips nothing and --speculative both give the golden greedy ids", () => {
  const base = ["generate", MODEL, "--prompt-ids", "1", "--max-tokens", "50", "--temperature", "0", "--json"];
  const skip = skiff(...base, "--ffn-skip", "--ffn-skip-threshold", "2");
  expect(skip.code, skip.stderr).toBe(0);
  const out = JSON.parse(skip.stdout);
  expect(out.ids).toEqual(golden.ids);
  expect(out.stats.ffnSkip).toMatchObject({ blocksSkipped: 0, skipRatio: 0 });
  for (const drafter of ["ngram", "ffn-skip"]) {
    const spec = skiff(...base, "--speculative", drafter, "--max-draft", "3");
    expect(spec.code, spec.stderr).toBe(0);
    const r = JSON.parse(spec.stdout);
    expect(r.ids).toEqual(golden.ids);
    expect(r.stats.speculative.drafter).toBe(drafter);
  }
  const text = skiff("generate", MODEL, "--prompt-ids", "1", "--max-tokens", "20", "--temperature", "0", "--ffn-skip");
  expect(text.code).toBe(0);
  expect(text.stderr).toMatch(/^skiff: FFN blocks skipped: \d+ of 100 /);
  for (const args of [
    ["generate", MODEL, "--ffn-skip-threshold", "0.9"],
    ["generate", MODEL, "--speculative", "tree"],
    ["generate", MODEL, "--max-draft", "2"],
    ["generate", MODEL, "--ffn-skip", "--ffn-skip-warmup", "-1"],
  ]) {
    const r = skiff(...args);
    expect(r.code, args.join(" ")).toBe(2);
    expect(r.stderr).toMatch(/^skiff: /);
  }
});

// The demo page: first visit generates with the embedded model; a reload loads it from IndexedDB without
// fetching it again; output is text; a browser without WebGPU is told what to enable.
import { expect, test } from "@playwright/test";

test("first visit imports the embedded model and streams generated text", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto("/");
  await expect(page.locator("#status")).toHaveText(/is ready/, { timeout: 60_000 });
  await expect(page.locator("#model-note")).toContainText("tiny test model");
  await expect(page.locator("#models li")).toHaveCount(1);
  await page.fill("#max-tokens", "24");
  await page.fill("#seed", "7");
  await page.click("#generate");
  await expect(page.locator("#stats")).toContainText("decode", { timeout: 60_000 });
  const text = await page.locator("#output").textContent();
  expect(text!.length).toBeGreaterThan(0);
  // Model output is inserted as text: never as elements.
  expect(await page.locator("#output *").count()).toBe(0);
  await expect(page.locator("#gpu-info")).toContainText("Features");
  expect(errors).toEqual([]);

  // Reload with the model file unreachable: it must come from IndexedDB.
  let fetched = false;
  await page.route("**/*.gguf", (route) => {
    fetched = true;
    return route.abort();
  });
  await page.reload();
  await expect(page.locator("#status")).toHaveText(/is ready/, { timeout: 60_000 });
  await page.fill("#max-tokens", "24");
  await page.fill("#seed", "7");
  await page.click("#generate");
  await expect(page.locator("#stats")).toContainText("decode", { timeout: 60_000 });
  expect(await page.locator("#output").textContent()).toBe(text);
  expect(fetched).toBe(false);
});

test("import a GGUF by file picker with progress, use it, delete it; an unsupported file is named", async ({
  page,
}, testInfo) => {
  await page.goto("/");
  await expect(page.locator("#status")).toHaveText(/is ready/, { timeout: 60_000 });
  const before = await page.locator("#models li").count();
  // Record every progress line the page shows: the import is fast here, the bar may only flash.
  await page.evaluate(() => {
    const w = window as unknown as { progressLines: string[] };
    w.progressLines = [];
    const text = document.querySelector("#progress-text")!;
    new MutationObserver(() => w.progressLines.push(text.textContent ?? "")).observe(text, {
      childList: true,
      characterData: true,
      subtree: true,
    });
  });
  await page.setInputFiles("#file", "../shared/models/stories260K-q4_0.gguf");
  await expect(page.locator("#status")).toHaveText(/stories260K-q4_0\.gguf is ready/, { timeout: 60_000 });
  await expect(page.locator("#models li")).toHaveCount(before + 1);
  const lines = await page.evaluate(() => (window as unknown as { progressLines: string[] }).progressLines);
  expect(lines.some((l) => /^Storing .+ of .+ · .+\/s · .+ left$/.test(l))).toBe(true);
  await page.fill("#max-tokens", "16");
  await page.click("#generate");
  await expect(page.locator("#stats")).toContainText("GPU memory", { timeout: 60_000 });
  await expect(page.locator("#bench")).toContainText("ms");
  await testInfo.attach("demo after generation", {
    body: await page.screenshot({ fullPage: true }),
    contentType: "image/png",
  });

  const row = page.locator("#models li", { hasText: "stories260K-q4_0.gguf" });
  await row.getByRole("button", { name: "Delete" }).click();
  await expect(page.locator("#models li")).toHaveCount(before);
  await expect(page.locator("#generate")).toBeDisabled();

  await page.setInputFiles("#file", {
    name: "notes.gguf",
    mimeType: "application/octet-stream",
    buffer: Buffer.from("not a model at all, just text"),
  });
  await expect(page.locator("#status")).toHaveAttribute("data-state", "error", { timeout: 30_000 });
  await expect(page.locator("#status")).toContainText("Not a GGUF file");
  await expect(page.locator("#models li")).toHaveCount(before);
});

test("a browser without WebGPU is told what to enable", async ({ page }) => {
  await page.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, "gpu", { get: () => undefined });
  });
  await page.goto("/");
  await expect(page.locator("#status")).toHaveAttribute("data-state", "error");
  await expect(page.locator("#status")).toContainText("WebGPU is not available");
});

test("chat mode keeps the conversation as turns of text; New chat clears it", async ({ page }) => {
  await page.goto("/");
  await expect(page.locator("#status")).toHaveText(/is ready/, { timeout: 60_000 });
  await page.check("#chat-mode");
  await page.fill("#max-tokens", "10");
  await page.fill("#temperature", "0");
  for (const [i, text] of ["Hello <b>there</b>", "Again"].entries()) {
    await page.fill("#prompt", text);
    await page.click("#generate");
    await expect(page.locator("#output .turn")).toHaveCount(2 * (i + 1));
    await expect(page.locator("#status")).toHaveText("Done.", { timeout: 60_000 });
  }
  // Turns are plain text: the markup typed by the user stays text.
  await expect(page.locator("#output .turn.user").first()).toHaveText("Hello <b>there</b>");
  expect(await page.locator("#output .turn *").count()).toBe(0);
  await page.click("#new-chat");
  await expect(page.locator("#output .turn")).toHaveCount(0);
});

// <skiff-chat> in headless Chromium: import and load from the model URL, streamed tokens equal to the shown text,
// one download, load and worker for two elements, the error paths, and the built library (dist/skiff.js).
import { execFileSync } from "node:child_process";
import { expect, test, type Page } from "@playwright/test";
import type { SkiffErrorCode } from "../src/errors.ts";
import type { SkiffChatElement } from "../src/element/skiff-chat.ts";

const MODEL = "/models/stories260K-f32.gguf";
const ERROR_CODES: SkiffErrorCode[] = [
  "no-webgpu",
  "device-lost",
  "shader-compile",
  "bad-shape",
  "bad-argument",
  "unsupported-type",
  "unsupported-architecture",
  "bad-gguf",
  "too-big-for-device",
  "quota-exceeded",
  "aborted",
];

interface RecordedEvent {
  type: string;
  target: string;
  detail: { phase?: string; code?: string; message?: string; text?: string };
}

declare global {
  interface Window {
    skiffEvents: RecordedEvent[];
  }
}

/** Records every skiff-* event that reaches the window (they bubble and are composed). */
async function recordEvents(page: Page): Promise<void> {
  await page.addInitScript(() => {
    window.skiffEvents = [];
    for (const type of ["skiff-progress", "skiff-token", "skiff-done", "skiff-error"]) {
      window.addEventListener(type, (e) => {
        const target = (e.target as Element).id;
        window.skiffEvents.push({ type, target, detail: (e as CustomEvent).detail });
      });
    }
  });
}

/** Serves `body` as a page of the dev server's origin that loads the element from source. */
async function openTestPage(page: Page, body: string): Promise<void> {
  await page.route("**/element-test.html", (route) =>
    route.fulfill({
      contentType: "text/html",
      body: `<!doctype html><html><head><meta charset="utf-8"><script type="module" src="/src/element/index.ts"></script></head><body>${body}</body></html>`,
    }),
  );
  await recordEvents(page);
  await page.goto("/element-test.html");
}

/** Counts the page's requests (the worker's included) whose URL matches. */
function countRequests(page: Page, pattern: RegExp): { count: number } {
  const counter = { count: 0 };
  page.on("request", (r) => {
    if (pattern.test(r.url())) counter.count++;
  });
  return counter;
}

const events = (page: Page, type?: string) =>
  page.evaluate((t) => window.skiffEvents.filter((e) => !t || e.type === t), type);

/** Waits for the element to finish preparing; an error fails at once, with the element's message. */
async function expectReady(page: Page, selector = "skiff-chat"): Promise<void> {
  const status = page.locator(`${selector} [part=status]`);
  await expect(status).not.toHaveAttribute("data-state", "pending", { timeout: 60_000 });
  await expect(status).toHaveText(/is ready/, { timeout: 1 });
}

test("imports the model from its URL, streams tokens, shows the same text, and reloads without a download", async ({
  page,
}) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const downloads = countRequests(page, /\.gguf$/);
  await openTestPage(page, `<skiff-chat id="chat" model="${MODEL}" max-tokens="24" seed="7"></skiff-chat>`);
  await expectReady(page);
  const progress = await events(page, "skiff-progress");
  expect(progress.map((e) => e.detail.phase)).toEqual(expect.arrayContaining(["download", "store", "load", "ready"]));

  const generate = () =>
    page.evaluate(async () => {
      const chat = document.querySelector("skiff-chat")!;
      const tokens: { id: number; text: string; index: number }[] = [];
      chat.addEventListener("skiff-token", (e) => tokens.push(e.detail));
      const result = await chat.generate("Once upon a time");
      const turns = chat.shadowRoot!.querySelectorAll("[data-role=model]");
      return {
        result,
        tokens,
        shown: turns[turns.length - 1].textContent,
        elementsInTurns: chat.shadowRoot!.querySelectorAll("[part=transcript] .turn *").length,
      };
    });
  const run = await generate();
  expect(run.result.text.length).toBeGreaterThan(0);
  expect(run.tokens.length).toBeGreaterThan(0);
  expect(run.tokens.map((t) => t.text).join("")).toBe(run.result.text);
  expect(run.tokens.filter((t) => t.id >= 0).map((t) => t.index)).toEqual(run.result.tokenIds.map((_, i) => i));
  expect(run.shown).toBe(run.result.text);
  // Model output (and the prompt) went in as text: no element inside any transcript turn.
  expect(run.elementsInTurns).toBe(0);
  const done = await events(page, "skiff-done");
  expect(done.map((e) => e.detail.text)).toEqual([run.result.text]);
  expect(downloads.count).toBe(1);

  // A later page load finds the stored model by its source URL: no download, same output for the same seed.
  await page.reload();
  await expectReady(page);
  expect((await events(page, "skiff-progress")).map((e) => e.detail.phase)).toEqual(["load", "ready"]);
  expect((await generate()).result.text).toBe(run.result.text);
  expect(downloads.count).toBe(1);
  expect(errors).toEqual([]);
});

test("two elements naming one model share one worker, one download and one load", async ({ page }) => {
  const downloads = countRequests(page, /\.gguf$/);
  await openTestPage(
    page,
    `<skiff-chat id="a" model="${MODEL}" max-tokens="8" seed="1"></skiff-chat>
     <skiff-chat id="b" model="${MODEL}" max-tokens="8" temperature="0" system="A story."></skiff-chat>`,
  );
  await expectReady(page, "#a");
  await expectReady(page, "#b");
  expect(downloads.count).toBe(1);
  expect(page.workers()).toHaveLength(1);
  const progress = await events(page, "skiff-progress");
  expect(progress.filter((e) => e.detail.phase === "load")).toHaveLength(1);
  expect(progress.filter((e) => e.detail.phase === "ready").map((e) => e.target)).toEqual(
    expect.arrayContaining(["a", "b"]),
  );

  // Both at once: one through the method, one through the UI; the shared queue runs them in turn.
  const viaMethod = page.evaluate(() => document.querySelector<SkiffChatElement>("#a")!.generate("Lily"));
  await page.locator("#b [part=input]").fill("Tom");
  await page.locator("#b [part=send]").click();
  expect((await viaMethod).text.length).toBeGreaterThan(0);
  await expect
    .poll(async () => (await events(page, "skiff-done")).map((e) => e.target).sort(), { timeout: 60_000 })
    .toEqual(["a", "b"]);
  const doneB = (await events(page, "skiff-done")).find((e) => e.target === "b")!;
  await expect(page.locator("#b [data-role=model]")).toHaveText(doneB.detail.text!);
  await expect(page.locator("#b [data-role=user]")).toHaveText("Tom");
  expect(downloads.count).toBe(1);
  expect(page.workers()).toHaveLength(1);

  // abort() stops this element's generation; the result keeps what was generated.
  const stopped = await page.evaluate(() => {
    const a = document.querySelector<SkiffChatElement>("#a")!;
    a.setAttribute("max-tokens", "300");
    a.addEventListener("skiff-token", () => a.abort(), { once: true });
    return a.generate("Lily");
  });
  expect(stopped.stopReason).toBe("aborted");
  expect(stopped.tokenIds.length).toBeLessThan(300);
});

test("an invalid model URL fires skiff-error with a code", async ({ page }) => {
  await openTestPage(page, `<skiff-chat id="bad" model="/models/does-not-exist.gguf"></skiff-chat>`);
  await expect.poll(async () => (await events(page, "skiff-error")).length, { timeout: 30_000 }).toBe(1);
  const [error] = await events(page, "skiff-error");
  expect(ERROR_CODES).toContain(error.detail.code);
  expect(error.detail.message).toBeTruthy();
  await expect(page.locator("#bad [part=status]")).toHaveAttribute("data-state", "error");
  await expect(page.locator("#bad [part=send]")).toBeDisabled();
});

test("without WebGPU the element says so and fires no-webgpu", async ({ page }) => {
  await page.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, "gpu", { get: () => undefined });
  });
  await openTestPage(page, `<skiff-chat id="chat" model="${MODEL}"></skiff-chat>`);
  await expect(page.locator("#chat [part=status]")).toContainText("WebGPU is not available");
  expect((await events(page, "skiff-error")).map((e) => e.detail.code)).toEqual(["no-webgpu"]);
  expect(page.workers()).toHaveLength(0);
});

test.describe("the built library", () => {
  test.beforeAll(() => {
    execFileSync("npm", ["run", "build:lib"], { stdio: "pipe", timeout: 90_000 });
  });

  test("examples/embed.html works from dist/skiff.js alone", async ({ page }) => {
    const fromSource = countRequests(page, /\/src\//);
    await recordEvents(page);
    await page.goto("/examples/embed.html");
    await expectReady(page);
    await page.locator("skiff-chat [part=input]").fill("Once upon a time");
    await page.locator("skiff-chat [part=input]").press("Enter");
    await expect.poll(async () => (await events(page, "skiff-done")).length, { timeout: 60_000 }).toBe(1);
    const [done] = await events(page, "skiff-done");
    expect(done.detail.text!.length).toBeGreaterThan(0);
    await expect(page.locator("skiff-chat [data-role=model]")).toHaveText(done.detail.text!);
    expect(await events(page, "skiff-error")).toEqual([]);
    expect(fromSource.count).toBe(0);
    expect(page.workers()).toHaveLength(1);
  });

  test("examples/embed.html fires progress, then tokens in index order, then exactly one done, last", async ({
    page,
  }) => {
    // Types, indices and timestamps as they reach the window, recorded in the page in arrival order.
    await page.addInitScript(() => {
      const w = window as unknown as { timeline: { type: string; t: number; index?: number; id?: number }[] };
      w.timeline = [];
      for (const type of ["skiff-progress", "skiff-token", "skiff-done", "skiff-error"]) {
        window.addEventListener(type, (e) => {
          const d = (e as CustomEvent<{ index?: number; id?: number }>).detail;
          w.timeline.push({ type, t: performance.now(), index: d?.index, id: d?.id });
        });
      }
    });
    await page.goto("/examples/embed.html");
    await expectReady(page);
    await page.locator("skiff-chat [part=input]").fill("Once upon a time");
    await page.locator("skiff-chat [part=input]").press("Enter");
    const timeline = () =>
      page.evaluate(
        () => (window as unknown as { timeline: { type: string; t: number; index?: number; id?: number }[] }).timeline,
      );
    await expect
      .poll(async () => (await timeline()).filter((e) => e.type === "skiff-done").length, { timeout: 60_000 })
      .toBe(1);
    const events = await timeline();
    const types = events.map((e) => e.type);
    expect(types).not.toContain("skiff-error");
    // skiff-progress+ skiff-token+ skiff-done, nothing after the done.
    expect(types.join(" ")).toMatch(/^(skiff-progress )+(skiff-token )+skiff-done$/);
    const tokens = events.filter((e) => e.type === "skiff-token");
    expect(tokens.map((e) => e.index)).toEqual(tokens.map((_, i) => i));
    const times = events.map((e) => e.t);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });
});

test("abort() from a skiff-token listener stops within one token of the round trip", async ({ page }) => {
  await openTestPage(page, `<skiff-chat id="chat" model="${MODEL}" max-tokens="200" temperature="0"></skiff-chat>`);
  await expectReady(page);
  for (const k of [0, 3, 10]) {
    const run = await page.evaluate(async (k) => {
      const chat = document.querySelector<SkiffChatElement>("#chat")!;
      const seen: number[] = [];
      const onToken = (e: CustomEvent<{ id: number; index: number }>) => {
        if (e.detail.id < 0) return; // the decoder's final flush, not a generated token
        seen.push(e.detail.index);
        if (e.detail.index === k) chat.abort();
      };
      chat.addEventListener("skiff-token", onToken);
      try {
        const result = await chat.generate("Once upon a time");
        return { stopReason: result.stopReason, ids: result.tokenIds.length, seen };
      } finally {
        chat.removeEventListener("skiff-token", onToken);
      }
    }, k);
    // Tokens 0..k are out when abort() is called; the worker learns of it one message round trip later and
    // decode is pipelined one step ahead, so step k+1 may already be read back and emitted: k + 2 at most.
    expect(run.stopReason, `k=${k}`).toBe("aborted");
    expect(run.ids, `k=${k}`).toBeGreaterThanOrEqual(k + 1);
    expect(run.ids, `k=${k}`).toBeLessThanOrEqual(k + 2);
    expect(run.seen, `k=${k}`).toEqual(run.seen.map((_, i) => i));
    expect(run.seen.length, `k=${k}`).toBe(run.ids);
  }
});

test('mode="chat" keeps the conversation, prompts through the chat template and reuses the cached turns', async ({
  page,
}) => {
  await openTestPage(
    page,
    `<skiff-chat id="chat" mode="chat" model="${MODEL}" max-tokens="12" temperature="0" system="Tell stories."></skiff-chat>`,
  );
  await expectReady(page);
  const turns = await page.evaluate(async () => {
    const chat = document.querySelector("skiff-chat")!;
    const first = await chat.generate("Hello");
    const second = await chat.generate("Again");
    return { first, second, messages: chat.messages, shown: chat.shadowRoot!.querySelectorAll(".turn").length };
  });
  expect(turns.messages.map((m) => m.role)).toEqual(["system", "user", "assistant", "user", "assistant"]);
  expect(turns.messages[2].content).toBe(turns.first.text);
  expect(turns.messages[4].content).toBe(turns.second.text);
  expect(turns.shown).toBe(4);
  // The second prompt starts with the first turn (ChatML here: the model has no template), whose cache was kept.
  expect(turns.first.stats.cachedPromptTokens).toBe(0);
  expect(turns.second.stats.cachedPromptTokens).toBeGreaterThan(turns.first.stats.promptTokens / 2);
  expect(turns.second.stats.promptTokens).toBeGreaterThan(turns.first.stats.promptTokens + turns.first.tokenIds.length);
});

// The demo page opens, finds WebGPU, and reports the adapter as text.
import { expect, test } from "@playwright/test";

test("demo page finds WebGPU and lists the adapter", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto("/");
  await expect(page.locator("#gpu-status")).toHaveAttribute("data-state", "ready");
  await expect(page.locator("#gpu-info")).toContainText("Features");
  expect(errors).toEqual([]);
});

test("demo page says what to enable when WebGPU is missing", async ({ page }) => {
  await page.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, "gpu", { get: () => undefined });
  });
  await page.goto("/");
  await expect(page.locator("#gpu-status")).toHaveAttribute("data-state", "error");
  await expect(page.locator("#gpu-status")).toContainText("WebGPU is not available");
});

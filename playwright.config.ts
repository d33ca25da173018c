// Playwright e2e: the demo page and friends in headless Chromium (Debian's, never a downloaded one).
import { defineConfig } from "@playwright/test";
// @ts-expect-error plain .mjs helper shared with the scripts
import { chromeArgs, findChrome } from "./scripts/chrome-path.mjs";

const port = 4317;

export default defineConfig({
  testDir: "e2e",
  testMatch: "*.spec.ts",
  timeout: 120_000,
  workers: 1,
  // The HTML report keeps attachments (the demo screenshot) beside the results.
  reporter: [["list"], ["html", { open: "never" }]],
  use: {
    baseURL: `http://localhost:${port}`,
    launchOptions: { executablePath: findChrome(), args: chromeArgs },
  },
  webServer: {
    command: `npx vite --port ${port} --strictPort`,
    url: `http://localhost:${port}`,
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
  },
});

// Two test projects: `unit` runs in Node; `gpu` runs *.gpu.test.ts in headless Chromium with WebGPU.
import { defineConfig } from "vitest/config";
import { playwright } from "@vitest/browser-playwright";
// @ts-expect-error plain .mjs helper shared with the scripts
import { chromeArgs, findChrome } from "./scripts/chrome-path.mjs";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["src/**/*.test.ts"],
          exclude: ["src/**/*.gpu.test.ts"],
          environment: "node",
        },
      },
      {
        test: {
          name: "gpu",
          include: ["src/**/*.gpu.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({
              launchOptions: { executablePath: findChrome(), args: chromeArgs },
            }),
            instances: [{ browser: "chromium" }],
          },
        },
      },
    ],
  },
});

// Two test projects: `unit` runs in Node; `gpu` runs *.gpu.test.ts (kernels) and *.browser.test.ts
// (storage, engine) in headless Chromium with WebGPU.
import { defineConfig } from "vitest/config";
import { playwright } from "@vitest/browser-playwright";
// @ts-expect-error plain .mjs helper shared with the scripts
import { chromeArgs, findChrome } from "./scripts/chrome-path.mjs";

export default defineConfig({
  // Tests read the shared test models beside the project.
  server: { fs: { allow: [".", "../shared"] } },
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["src/**/*.test.ts", "bench/**/*.test.ts"],
          exclude: ["src/**/*.gpu.test.ts", "src/**/*.browser.test.ts"],
          environment: "node",
        },
      },
      {
        test: {
          name: "gpu",
          include: ["src/**/*.gpu.test.ts", "src/**/*.browser.test.ts"],
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

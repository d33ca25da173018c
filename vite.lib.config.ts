// Library build: dist/skiff.js, one ES module holding the client, <skiff-chat>, the worker and every shader.
// Types come after, from `tsc -p tsconfig.lib.json` into dist/types; dist/skiff.d.ts points there.
import { defineConfig, type Plugin } from "vite";

/**
 * In library mode Vite emits `new Worker(new URL("./worker.ts", import.meta.url))` as a separate file with a
 * site-root path, which breaks wherever dist/ is served from. This rewrites the client's worker into Vite's
 * inline worker (a blob URL made from code held in skiff.js), so one file is the whole library. The worker
 * then has no URL of its own: model URLs reach it absolute (the element resolves them against the page).
 */
function inlineWorker(): Plugin {
  const workerUrl = /new Worker\(\s*new URL\(\s*["']\.\/worker\.ts["']\s*,\s*import\.meta\.url\s*\)\s*,/;
  return {
    name: "skiff:inline-worker",
    enforce: "pre",
    transform(code, id) {
      if (!id.replaceAll("\\", "/").endsWith("/src/worker/client.ts")) return null;
      if (!workerUrl.test(code)) {
        this.error(
          'src/worker/client.ts no longer makes its worker with new Worker(new URL("./worker.ts", import.meta.url), …): update skiff:inline-worker in vite.lib.config.ts',
        );
      }
      const rewritten = code.replace(workerUrl, "new SkiffInlineWorker(");
      return { code: `import SkiffInlineWorker from "./worker.ts?worker&inline";\n${rewritten}`, map: null };
    },
  };
}

/** dist/skiff.d.ts beside dist/skiff.js, so TypeScript finds the declarations tsc writes to dist/types. */
function typesEntry(): Plugin {
  return {
    name: "skiff:types-entry",
    generateBundle() {
      this.emitFile({
        type: "asset",
        fileName: "skiff.d.ts",
        source: [
          "// Declarations of dist/skiff.js (written by tsc -p tsconfig.lib.json); the engine's types need WebGPU's.",
          '/// <reference types="@webgpu/types" />',
          'export * from "./types/index.ts";',
          "",
        ].join("\n"),
      });
    },
  };
}

export default defineConfig({
  // The demo's public/ (the test model) does not belong in the library.
  publicDir: false,
  plugins: [inlineWorker(), typesEntry()],
  worker: { format: "es" },
  build: {
    target: "es2022",
    outDir: "dist",
    emptyOutDir: true,
    // Off: the inline worker's map would be a separate file its blob URL cannot reach; the output is unminified.
    sourcemap: false,
    lib: {
      entry: "src/index.ts",
      formats: ["es"],
      fileName: () => "skiff.js",
    },
  },
});

// Vite serves the demo page (index.html) and the benchmark page; WGSL is imported as text with `?raw`.
import { defineConfig } from "vite";

export default defineConfig({
  server: { host: "localhost" },
  // Pre-bundled up front: discovering them on a page's first dynamic import would reload that page.
  optimizeDeps: { include: ["comlink", "idb-keyval"] },
  worker: { format: "es" },
  build: { target: "es2022" },
});

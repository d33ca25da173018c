// Vite serves the demo page (index.html) and the benchmark page; WGSL is imported as text with `?raw`.
import { defineConfig } from "vite";

export default defineConfig({
  server: { host: "localhost" },
  worker: { format: "es" },
  build: { target: "es2022" },
});

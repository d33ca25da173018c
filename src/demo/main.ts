// Demo page logic: shows what this browser's WebGPU offers. UI only; errors are shown as text.
import { createGpuContext } from "../gpu/device.ts";
import { SkiffError } from "../errors.ts";

const status = document.querySelector<HTMLParagraphElement>("#gpu-status")!;
const info = document.querySelector<HTMLDListElement>("#gpu-info")!;

function row(term: string, value: string): void {
  const dt = document.createElement("dt");
  dt.textContent = term;
  const dd = document.createElement("dd");
  dd.textContent = value;
  info.append(dt, dd);
}

async function showGpu(): Promise<void> {
  try {
    const ctx = await createGpuContext();
    status.dataset.state = "ready";
    status.textContent = "WebGPU is ready.";
    const a = ctx.adapterInfo;
    row("Adapter", [a.vendor, a.architecture, a.description].filter(Boolean).join(" · ") || "unnamed");
    row("Kind", ctx.isCpuAdapter ? "CPU implementation (barrier-free kernels)" : "GPU (cooperative kernels)");
    row(
      "Features",
      Object.entries(ctx.features)
        .map(([k, v]) => `${k}: ${v ? "yes" : "no"}`)
        .join(", "),
    );
    row("Largest storage binding", `${(ctx.limits.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB`);
    row("Largest buffer", `${(ctx.limits.maxBufferSize / 2 ** 20).toFixed(0)} MiB`);
  } catch (e) {
    status.dataset.state = "error";
    status.textContent = e instanceof SkiffError ? e.message : `Could not start WebGPU: ${String(e)}`;
  }
}

void showGpu();

// Demo page: the embedded test model on first visit, import by file, drop or URL with progress and cancel,
// a model list, settings, streamed generation with live stats. UI only: everything runs in the worker.
import { SkiffClient } from "../worker/client.ts";
import { SkiffError } from "../errors.ts";
import type { ModelInfo } from "../engine/engine.ts";
import { bytes, el, seconds } from "./format.ts";
import { FfnMap } from "./ffn-map.ts";
import { showBenchmarks } from "./bench-view.ts";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $<HTMLParagraphElement>("status");
const output = $<HTMLOutputElement>("output");
const generateButton = $<HTMLButtonElement>("generate");
const stopButton = $<HTMLButtonElement>("stop");

const DEFAULT_MODEL = { url: "/models/stories260K-f32.gguf", name: "stories260K-f32.gguf" };
const client = new SkiffClient();
let loaded: ModelInfo | undefined;
const ffnMap = new FfnMap($<HTMLCanvasElement>("ffn-map"));
let busy = false;

function say(text: string, state: "pending" | "ready" | "error" = "ready"): void {
  status.textContent = text;
  status.dataset.state = state;
}

function fail(e: unknown): void {
  const error = e instanceof SkiffError ? e : undefined;
  const text = error?.message ?? String(e);
  if (error?.code === "device-lost") {
    say(`${text}. Reload the page to start again.`, "error");
    $("reload").hidden = false;
  } else say(text, "error");
}

async function showGpu(): Promise<void> {
  const info = $<HTMLDListElement>("gpu-info");
  const d = await client.deviceInfo();
  const rows: [string, string][] = [
    [
      "Adapter",
      [d.adapter.vendor, d.adapter.architecture, d.adapter.description].filter(Boolean).join(" · ") || "unnamed",
    ],
    ["Kind", d.isCpuAdapter ? "CPU implementation (barrier-free kernels)" : "GPU (cooperative kernels)"],
    [
      "Features",
      Object.entries(d.features)
        .map(([k, v]) => `${k}: ${v ? "yes" : "no"}`)
        .join(", "),
    ],
  ];
  for (const [t, v] of rows) info.append(el("dt", t), el("dd", v));
}

async function refreshModels(): Promise<ModelInfo[]> {
  const models = await client.listModels();
  const list = $<HTMLUListElement>("models");
  list.replaceChildren(
    ...models.map((m) => {
      const li = el("li");
      li.append(
        el("span", m.name, "name"),
        el("span", ` ${bytes(m.storedBytes)} · ${m.config.nLayers} layers · dim ${m.config.dim}`, "meta"),
      );
      const use = el("button", m.id === loaded?.id ? "Loaded" : "Load");
      use.disabled = m.id === loaded?.id;
      use.onclick = () => void loadModel(m);
      const del = el("button", "Delete");
      del.onclick = async () => {
        await client.deleteModel(m.id);
        if (loaded?.id === m.id) {
          loaded = undefined;
          generateButton.disabled = true;
        }
        await refreshModels();
      };
      li.append(use, del);
      return li;
    }),
  );
  const u = await client.storageUsage();
  $("storage").textContent =
    `Storage: ${bytes(u.usedBytes)} used of ${bytes(u.quotaBytes)}${u.persisted ? ", persistent" : ", may be cleared by the browser"}`;
  return models;
}

async function loadModel(m: ModelInfo): Promise<void> {
  say(`Loading ${m.name}…`, "pending");
  const contextLength = Math.min(Number($<HTMLInputElement>("context").value) || 512, m.config.seqLen);
  const info = await client.load(m.id, { contextLength });
  loaded = m;
  generateButton.disabled = false;
  $("model-note").textContent =
    m.source === DEFAULT_MODEL.name || m.source.endsWith(DEFAULT_MODEL.url)
      ? "This is stories260K, a tiny test model (260K parameters) with a placeholder vocabulary: its text is not meant to read well. Import your own GGUF (F32, F16, Q8_0 or Q4_0 Llama) below."
      : `${m.name}: context ${info.contextLength}, ${bytes(info.gpuBytes)} on the GPU.`;
  say(`${m.name} is ready.`);
  await refreshModels();
}

async function importModel(source: Blob | string, name?: string): Promise<void> {
  const progress = $("progress");
  const bar = $<HTMLProgressElement>("progress-bar");
  const text = $("progress-text");
  progress.hidden = false;
  const started = performance.now();
  say(`Importing ${name ?? source}…`, "pending");
  try {
    const m = await client.importModel(source, {
      name,
      onProgress: (p) => {
        const fraction = p.bytesTotal ? p.bytesDone / p.bytesTotal : 0;
        const speed = p.bytesDone / ((performance.now() - started) / 1000);
        bar.value = fraction;
        text.textContent = `${p.phase === "download" ? "Downloading" : "Storing"} ${bytes(p.bytesDone)} of ${bytes(p.bytesTotal)} · ${bytes(speed)}/s · ${seconds((p.bytesTotal - p.bytesDone) / speed)} left`;
      },
    });
    await refreshModels();
    await loadModel(m);
  } catch (e) {
    fail(e);
    await refreshModels();
  } finally {
    progress.hidden = true;
  }
}

async function generate(): Promise<void> {
  if (busy) return;
  busy = true;
  generateButton.disabled = true;
  stopButton.disabled = false;
  output.textContent = "";
  ffnMap.reset(loaded?.config.nLayers ?? 1);
  const num = (id: string) => Number($<HTMLInputElement>(id).value);
  const seedText = $<HTMLInputElement>("seed").value;
  try {
    const r = await client.generate(
      $<HTMLTextAreaElement>("prompt").value,
      {
        maxTokens: num("max-tokens"),
        temperature: num("temperature"),
        topK: num("top-k"),
        topP: num("top-p"),
        ...(seedText ? { seed: Number(seedText) } : {}),
      },
      // Text only: model output is never parsed as HTML.
      (t) => {
        output.append(t.text);
        if (t.id >= 0) ffnMap.push();
      },
    );
    const s = r.stats;
    $("stats").textContent =
      `${s.promptTokens} prompt tokens, ${s.generatedTokens} generated · first token ${s.timeToFirstTokenMs.toFixed(0)} ms · prefill ${s.prefillTokensPerSecond.toFixed(1)} tok/s · decode ${s.decodeTokensPerSecond.toFixed(1)} tok/s · GPU memory ${bytes(s.gpuBytes)} · stopped: ${r.stopReason}`;
    say("Done.");
  } catch (e) {
    fail(e);
  } finally {
    busy = false;
    generateButton.disabled = !loaded;
    stopButton.disabled = true;
  }
}

function wire(): void {
  generateButton.onclick = () => void generate();
  stopButton.onclick = () => void client.abort();
  $("cancel").onclick = () => void client.abort();
  $("reload").onclick = () => location.reload();
  $<HTMLInputElement>("file").onchange = (e) => {
    const file = (e.target as HTMLInputElement).files?.[0];
    if (file) void importModel(file, file.name);
  };
  const drop = $("drop");
  drop.ondragover = (e) => {
    e.preventDefault();
    drop.classList.add("over");
  };
  drop.ondragleave = () => drop.classList.remove("over");
  drop.ondrop = (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    const file = e.dataTransfer?.files[0];
    if (file) void importModel(file, file.name);
  };
  $<HTMLFormElement>("url-form").onsubmit = (e) => {
    e.preventDefault();
    const url = $<HTMLInputElement>("url").value.trim();
    if (url) void importModel(url);
  };
}

async function start(): Promise<void> {
  wire();
  if (!("gpu" in navigator) || !navigator.gpu) {
    say(
      "WebGPU is not available in this browser: use a recent Chrome or Edge, or enable WebGPU (chrome://flags/#enable-unsafe-webgpu).",
      "error",
    );
    return;
  }
  try {
    await showGpu();
    void showBenchmarks($("bench"));
    const models = await refreshModels();
    if (models.length === 0) await importModel(DEFAULT_MODEL.url, DEFAULT_MODEL.name);
    else await loadModel(models[0]);
  } catch (e) {
    fail(e);
  }
}

void start();

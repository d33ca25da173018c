// Demo page: the embedded test model on first visit, import by file, drop or URL with progress and cancel,
// a model list, settings, streamed generation with live stats. UI only: everything runs in the worker.
import { SkiffClient } from "../worker/client.ts";
import { DemoConversation } from "./chat-mode.ts";
import { SkiffError } from "../errors.ts";
import type { GenerationStats, ModelInfo } from "../engine/engine.ts";
import { DEFAULT_FFN_SKIP, DEFAULT_SPECULATIVE, type GenerateSettings } from "../engine/settings.ts";
import { bytes, el, seconds } from "./format.ts";
import { FfnMap } from "./ffn-map.ts";
import { showBenchmarks } from "./bench-view.ts";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $<HTMLParagraphElement>("status");
const output = $<HTMLOutputElement>("output");
const generateButton = $<HTMLButtonElement>("generate");
const conversation = new DemoConversation(output);
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
      if (m.sparseTensors.length) li.append(sparseCard(m));
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

/** Which matrices import found pruned to an N:M pattern and stored compressed (the sparse kernels run them). */
function sparseCard(m: ModelInfo): HTMLDetailsElement {
  const card = el("details", "", "sparse");
  const patterns = [...new Set(m.sparseTensors.map((t) => t.pattern))].join(", ");
  const summary = el("summary", `${m.sparseTensors.length} sparse matrices (${patterns})`);
  summary.dataset.testid = "sparse-summary";
  const list = el("ul");
  list.append(...m.sparseTensors.map((t) => el("li", `${t.name}: ${t.pattern} ${t.type}`)));
  card.append(summary, list);
  return card;
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

/** The adaptive-compute panel as settings: FFN skipping when ticked, speculative decoding when a drafter is chosen. */
function adaptiveSettings(num: (id: string) => number): Partial<GenerateSettings> {
  const out: Partial<GenerateSettings> = {};
  if ($<HTMLInputElement>("ffn-skip").checked) {
    out.ffnSkip = {
      enabled: true,
      threshold: num("ffn-skip-threshold"),
      warmupTokens: num("ffn-skip-warmup"),
      protectFirst: num("ffn-skip-protect-first"),
      protectLast: num("ffn-skip-protect-last"),
      maxSkipFraction: num("ffn-skip-max-fraction"),
      recheckEvery: num("ffn-skip-recheck"),
    };
  }
  const drafter = $<HTMLSelectElement>("speculative").value as "off" | "ngram" | "ffn-skip";
  if (drafter !== "off") out.speculative = { drafter, maxDraft: num("max-draft") };
  return out;
}

/** What FFN skipping and speculation did, for the stats line. */
function adaptiveStats(s: GenerationStats): string {
  const parts: string[] = [];
  if (s.ffnSkip) parts.push(`FFN blocks skipped ${(100 * s.ffnSkip.skipRatio).toFixed(1)}%`);
  const sp = s.speculative;
  if (sp) {
    parts.push(
      `${sp.drafter} drafts accepted ${sp.accepted}/${sp.drafted} in ${sp.verifyPasses} passes (${sp.tokensPerPass.toFixed(2)} tokens per pass)`,
    );
  }
  return parts.map((p) => ` · ${p}`).join("");
}

async function generate(): Promise<void> {
  if (busy) return;
  busy = true;
  generateButton.disabled = true;
  stopButton.disabled = false;
  const chat = $<HTMLInputElement>("chat-mode").checked;
  const promptText = $<HTMLTextAreaElement>("prompt").value;
  // Chat mode streams into the reply's own turn under the conversation so far; otherwise the output is one text.
  const turn = chat ? conversation.ask(promptText) : undefined;
  if (!chat) output.textContent = "";
  const sink = turn?.reply ?? output;
  ffnMap.reset(loaded?.config.nLayers ?? 1);
  const num = (id: string) => Number($<HTMLInputElement>(id).value);
  const seedText = $<HTMLInputElement>("seed").value;
  try {
    const prompt = turn ? { ids: (await client.chatPrompt(turn.messages)).ids } : promptText;
    const r = await client.generate(
      prompt,
      {
        maxTokens: num("max-tokens"),
        temperature: num("temperature"),
        topK: num("top-k"),
        topP: num("top-p"),
        ...(seedText ? { seed: Number(seedText) } : {}),
        ...adaptiveSettings(num),
      },
      // Text only: model output is never parsed as HTML.
      (t) => {
        sink.append(t.text);
        if (t.id >= 0) ffnMap.push(t.ffnRan);
      },
    );
    if (turn) conversation.answered(r.text);
    const s = r.stats;
    $("stats").textContent =
      `${s.promptTokens} prompt tokens, ${s.generatedTokens} generated · first token ${s.timeToFirstTokenMs.toFixed(0)} ms · prefill ${s.prefillTokensPerSecond.toFixed(1)} tok/s · decode ${s.decodeTokensPerSecond.toFixed(1)} tok/s · GPU memory ${bytes(s.gpuBytes)}${adaptiveStats(s)} · stopped: ${r.stopReason}`;
    say("Done.");
  } catch (e) {
    if (turn) conversation.failed();
    fail(e);
  } finally {
    busy = false;
    generateButton.disabled = !loaded;
    stopButton.disabled = true;
  }
}

/** The adaptive-compute panel starts at the engine's defaults (index.html's values are placeholders). */
function showAdaptiveDefaults(): void {
  const set = (id: string, v: number) => ($<HTMLInputElement>(id).value = String(v));
  set("ffn-skip-threshold", DEFAULT_FFN_SKIP.threshold);
  set("ffn-skip-warmup", DEFAULT_FFN_SKIP.warmupTokens);
  set("ffn-skip-protect-first", DEFAULT_FFN_SKIP.protectFirst);
  set("ffn-skip-protect-last", DEFAULT_FFN_SKIP.protectLast);
  set("ffn-skip-max-fraction", DEFAULT_FFN_SKIP.maxSkipFraction);
  set("ffn-skip-recheck", DEFAULT_FFN_SKIP.recheckEvery);
  set("max-draft", DEFAULT_SPECULATIVE.maxDraft);
}

function wire(): void {
  showAdaptiveDefaults();
  generateButton.onclick = () => void generate();
  $<HTMLButtonElement>("new-chat").onclick = () => conversation.reset();
  $<HTMLInputElement>("chat-mode").onchange = () => conversation.reset();
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

// The Engine: import, list, load, generate, abort, stats, dispose. Usable in-thread and inside the worker
// (src/worker exposes one through Comlink). Everything GPU-side is made at load; a decode step only writes
// uniforms, submits one command buffer and reads back one token id (and, with FFN skipping, the blocks that ran).
// Decoding itself (plain, FFN-skipping or speculative) lives in adaptive-decode.ts and the files it names.
import { createGpuContext, type CreateGpuContextOptions, type GpuContext } from "../gpu/device.ts";
import { SkiffError } from "../errors.ts";
import { ModelStore, type ModelManifest, type StorageUsage } from "../storage/model-store.ts";
import { importGguf, type ImportProgress, type LlamaManifest } from "../storage/import-gguf.ts";
import { createTokenizer, type Tokenizer } from "../tokenizer/tokenizer.ts";
import { renderChat, type ChatMessage, type RenderedChat } from "./chat-template.ts";
import { buildLlamaStep, type StepKind } from "../models/llama.ts";
import { prepareStep, type PreparedStep } from "../graph/executor.ts";
import { opTable } from "../kernels/index.ts";
import { loadGpuModel, releaseUnusedSparse, type GpuModel } from "./gpu-model.ts";
import { resolveSettings, type GenerateSettings } from "./settings.ts";
import type { GenerateResult, TokenEvent } from "./types.ts";
import { TokenSink } from "./token-sink.ts";
import { createDecodeBuffers, type DecodeBuffers } from "./decode-buffers.ts";
import type { DecodeRun, StepOptions } from "./decode-loop.ts";
import { decodeAdaptive } from "./adaptive-decode.ts";
import type { LlamaConfig } from "../models/llama-config.ts";
import { TuningStore } from "../storage/tuning-store.ts";
import { choiceName, KERNEL_STYLES, type KernelChoice, type KernelStyle, type TuneRecord } from "../kernels/tuning.ts";
import { SKIFF_VERSION } from "../version.ts";

export interface EngineOptions {
  /** IndexedDB database prefix (tests use their own). */
  storePrefix?: string;
  gpu?: CreateGpuContextOptions;
  /** Tokens per prefill chunk. */
  prefillChunk?: number;
}

export interface ModelInfo {
  id: string;
  name: string;
  source: string;
  storedBytes: number;
  config: LlamaConfig;
  /** Matrices stored N:M-compressed (found pruned at import), which the sparse kernels run. */
  sparseTensors: SparseTensorInfo[];
}

export interface SparseTensorInfo {
  /** Stored role, e.g. "layers.0.wGate". */
  name: string;
  /** "2:4" etc. */
  pattern: string;
  /** Type of the kept values. */
  type: string;
}

export interface ChatPrompt {
  text: string;
  ids: number[];
  /** "model": the GGUF's chat template; "chatml": the fallback for a file without one. */
  template: RenderedChat["template"];
}

export interface LoadOptions {
  /** KV cache positions; defaults to the model's context length, at most 4096. */
  contextLength?: number;
  /** Bytes the model may take on the GPU. */
  memoryBudget?: number;
  /** "auto" (default): reuse this device's stored kernel choices and time the ops that have none; "skip": no
   *  timing, stored choices or the adapter's default; "retune": time every op again. */
  tuning?: "auto" | "skip" | "retune";
  /** Runs every tunable op in this style, whatever was stored or measured. */
  kernelVariant?: KernelStyle;
  /** "likely" (default): time only the styles that can win on this adapter (the barrier-free one on a CPU
   *  implementation such as SwiftShader, every style on a GPU); "all": time every candidate. */
  tuningCandidates?: "likely" | "all";
  /** Bounds on measuring: wall-clock budget (ops met after it get the default) and timed runs per candidate. */
  tuningBudgetMs?: number;
  tuningRuns?: number;
}

export interface LoadProgress {
  phase: "tune";
  /** The op and shape just measured, its candidates' times and the choice. */
  record: TuneRecord;
  /** Ops measured so far in this load. */
  done: number;
}

export interface TuningSummary {
  /** Ops timed during this load (0 when every choice came from the store). */
  measured: number;
  /** Wall time the timing took. */
  ms: number;
  /** Choice per op and shape that this model's steps use, e.g. { "gemv:q4_0:768x768": "rowwise/64" }. */
  choices: Record<string, string>;
  records: TuneRecord[];
}

export interface LoadedModelInfo extends ModelInfo {
  contextLength: number;
  gpuBytes: number;
  tuning: TuningSummary;
}

export type {
  FfnSkipStats,
  GenerateResult,
  GenerationStats,
  SpeculativeStats,
  StopReason,
  TokenEvent,
} from "./types.ts";

/** Enough on SwiftShader for a 110M-parameter model's ops; a GPU needs a fraction of it. */
const DEFAULT_TUNING_BUDGET_MS = 3000;
const DEFAULT_TUNING_RUNS = 3;

export class Engine {
  private ctx?: Promise<GpuContext>;
  private readonly store: ModelStore;
  private readonly tuningStore: TuningStore;
  private readonly prefillChunk: number;
  private model?: {
    gpu: GpuModel;
    tokenizer: Tokenizer;
    steps: Map<string, Promise<PreparedStep>>;
    buffers: DecodeBuffers;
    /** Token ids whose keys and values sit in the KV cache at positions 0.., from the last generation: a prompt
     *  that starts with them (the next turn of a chat) skips their prefill. */
    cached: number[];
  };
  private controller?: AbortController;
  private deviceError?: SkiffError;

  constructor(private readonly options: EngineOptions = {}) {
    this.store = new ModelStore(options.storePrefix);
    this.tuningStore = new TuningStore(options.storePrefix);
    this.prefillChunk = options.prefillChunk ?? 32;
  }

  private gpu(): Promise<GpuContext> {
    if (this.deviceError) return Promise.reject(this.deviceError);
    this.ctx ??= createGpuContext(this.options.gpu).then((ctx) => {
      ctx.events.addEventListener("lost", (e) => {
        this.deviceError = (e as CustomEvent<SkiffError>).detail;
        this.model = undefined;
        this.ctx = undefined;
      });
      return ctx;
    });
    this.ctx.catch(() => (this.ctx = undefined));
    return this.ctx;
  }

  /** Adapter facts for the UI. */
  async deviceInfo(): Promise<{
    adapter: GpuContext["adapterInfo"];
    features: GpuContext["features"];
    isCpuAdapter: boolean;
  }> {
    const ctx = await this.gpu();
    return { adapter: ctx.adapterInfo, features: ctx.features, isCpuAdapter: ctx.isCpuAdapter };
  }

  /** `onProgress` is its own argument (not an option) so it can cross the worker boundary as a Comlink proxy. */
  async importModel(
    source: Blob | string,
    options: { name?: string; id?: string; sparse?: boolean } = {},
    onProgress?: (p: ImportProgress) => void,
  ): Promise<ModelInfo> {
    const signal = this.begin();
    try {
      return info(await importGguf(this.store, source, { ...options, onProgress, signal }));
    } finally {
      this.end(signal);
    }
  }

  async listModels(): Promise<ModelInfo[]> {
    await this.store.removeIncomplete();
    return (await this.store.list()).map((m) => info(m as LlamaManifest));
  }

  async deleteModel(id: string): Promise<void> {
    if (this.model?.gpu.manifest.id === id) this.unload();
    await this.store.remove(id);
  }

  storageUsage(): Promise<StorageUsage> {
    return this.store.usage();
  }

  /**
   * Puts a stored model on the GPU, replacing the one loaded before, and makes its decode and prefill steps. On a
   * device with no stored kernel choices for the model's shapes, making them times each op's variants (bounded,
   * reported through `onProgress`) and stores the winners for later loads.
   */
  async load(id: string, options: LoadOptions = {}, onProgress?: (p: LoadProgress) => void): Promise<LoadedModelInfo> {
    const manifest = (await this.store.manifest(id)) as LlamaManifest | undefined;
    if (!manifest) throw new SkiffError("bad-argument", `No stored model ${id}: import it first`);
    const ctx = await this.gpu();
    this.unload();
    const signal = this.begin();
    try {
      const gpu = await loadGpuModel(ctx, this.store, manifest, {
        ...options,
        prefillChunk: this.prefillChunk,
        signal,
      });
      const buffers = createDecodeBuffers(ctx, gpu);
      this.model = { gpu, tokenizer: createTokenizer(manifest.tokenizer), steps: new Map(), buffers, cached: [] };
      const tuning = await this.prepareTunedSteps(ctx, options, onProgress);
      releaseUnusedSparse(gpu);
      return { ...info(manifest), contextLength: gpu.capacity, gpuBytes: gpu.gpuBytes, tuning };
    } catch (e) {
      this.unload();
      throw e;
    } finally {
      this.end(signal);
    }
  }

  /**
   * Makes the greedy decode step and a full prefill chunk's step now, so the first token does not pay for them;
   * making them is also when kernel variants are picked (src/kernels/tuning.ts), on the model's real shapes and
   * buffers, before anything of the user's is in them.
   */
  private async prepareTunedSteps(
    ctx: GpuContext,
    options: LoadOptions,
    onProgress?: (p: LoadProgress) => void,
  ): Promise<TuningSummary> {
    const tuner = ctx.tuner;
    const mode = options.tuning ?? "auto";
    const adapter = ctx.adapterInfo;
    tuner.choices.clear();
    if (mode !== "retune") {
      for (const [key, choice] of Object.entries(await this.tuningStore.load(adapter, SKIFF_VERSION))) {
        tuner.choices.set(key, choice);
      }
    }
    tuner.force = options.kernelVariant;
    tuner.measuring = mode !== "skip";
    tuner.spentMs = 0;
    tuner.budgetMs = options.tuningBudgetMs ?? DEFAULT_TUNING_BUDGET_MS;
    tuner.runs = options.tuningRuns ?? DEFAULT_TUNING_RUNS;
    tuner.styles = options.tuningCandidates !== "all" && ctx.isCpuAdapter ? ["rowwise"] : KERNEL_STYLES;
    tuner.losers.clear();
    tuner.familyChoice.clear();
    tuner.unmeasured.clear();
    const first = tuner.records.length;
    tuner.used.clear();
    tuner.onRecord = (record) => onProgress?.({ phase: "tune", record, done: tuner.records.length - first });
    try {
      await this.step("decode", 1, { sampler: "argmax" });
      const chunk = Math.min(this.prefillChunk, this.loaded().gpu.capacity - 1);
      if (chunk >= 1) await this.step("prefill", chunk);
    } finally {
      tuner.measuring = false;
      tuner.onRecord = undefined;
    }
    const records = tuner.records.slice(first);
    const picked = [...records.map((r): [string, KernelChoice] => [r.key, r.chosen]), ...tuner.unmeasured];
    if (picked.length > 0) await this.tuningStore.save(adapter, SKIFF_VERSION, Object.fromEntries(picked));
    const choices: Record<string, string> = {};
    for (const [key, choice] of tuner.used) choices[key] = choiceName(choice);
    return { measured: records.length, ms: tuner.spentMs, choices, records };
  }

  unload(): void {
    if (!this.model) return;
    const m = this.model;
    this.model = undefined;
    void Promise.all(m.steps.values())
      .then((steps) => steps.forEach((s) => s.destroy()))
      .catch(() => undefined);
    m.buffers.destroy();
    m.gpu.destroy();
  }

  tokenize(text: string): number[] {
    return this.loaded().tokenizer.encode(text);
  }

  /**
   * The loaded model's prompt for a conversation: its chat template rendered (ChatML when it has none) and
   * tokenized with special tokens parsed. BOS is added only when the template did not write it.
   */
  chatPrompt(messages: ChatMessage[]): ChatPrompt {
    const model = this.loaded();
    const t = model.tokenizer;
    const spec = model.gpu.manifest.tokenizer;
    // Special tokens as the template writes them: their text in the vocabulary ("<s>", "<|begin_of_text|>").
    const tokenText = (id: number) => spec.vocab.tokens[id] ?? "";
    const bos = tokenText(t.bosId);
    const rendered = renderChat(spec.chatTemplate, messages, { bos, eos: tokenText(t.eosId) });
    const startsWithBos = bos.length > 0 && rendered.text.startsWith(bos);
    const ids = t.encode(rendered.text, { addBos: t.addBos && !startsWithBos, parseSpecial: true });
    return { ...rendered, ids };
  }

  /** Stops the import, load or generation in flight; a generation returns what it has with reason "aborted". */
  abort(): void {
    this.controller?.abort();
  }

  /** `prompt` is text to tokenize, or token ids as `{ ids }` (or a plain array). */
  async generate(
    prompt: string | number[] | { ids: number[] },
    settings: Partial<GenerateSettings> = {},
    onToken?: (t: TokenEvent) => void,
  ): Promise<GenerateResult> {
    const s = resolveSettings(settings);
    const model = this.loaded();
    const ctx = await this.gpu();
    const ids =
      typeof prompt === "string"
        ? model.tokenizer.encode(prompt)
        : Array.isArray(prompt)
          ? [...prompt]
          : [...prompt.ids];
    if (ids.length === 0) throw new SkiffError("bad-argument", "The prompt is empty and the model adds no BOS token");
    const vocab = model.gpu.manifest.config.vocabSize;
    const badId = ids.find((t) => !(Number.isInteger(t) && t >= 0 && t < vocab));
    if (badId !== undefined)
      throw new SkiffError("bad-argument", `Token id ${badId} is outside the vocabulary (${vocab})`);
    const capacity = model.gpu.capacity;
    if (ids.length >= capacity) {
      throw new SkiffError(
        "bad-argument",
        `The prompt has ${ids.length} tokens; the context holds ${capacity}. Shorten it or load with a longer context`,
      );
    }
    const signal = this.begin();
    const t0 = performance.now();
    // Positions the last generation left valid and this prompt shares; the last prompt token always runs, as it
    // makes the logits. The cache is overwritten from there on, so nothing is cached until this one ends.
    const reused = s.reusePrefix ? sharedPrefix(model.cached, ids, ids.length - 1) : 0;
    model.cached = [];
    try {
      // Prefill every prompt token but the last in chunks; the last runs as a decode step that makes the logits.
      for (let start = reused; start < ids.length - 1; start += this.prefillChunk) {
        if (signal.aborted) break;
        const chunk = ids.slice(start, Math.min(ids.length - 1, start + this.prefillChunk));
        const step = await this.step("prefill", chunk.length);
        ctx.device.queue.writeBuffer(model.gpu.tokens, 0, new Uint32Array(chunk));
        step.setPosition(start);
        this.submit(ctx, step);
      }
      const sink = new TokenSink(model.tokenizer, s, signal, t0, onToken);
      const run: DecodeRun = {
        ctx,
        gpu: model.gpu,
        buffers: model.buffers,
        settings: s,
        signal,
        prompt: ids,
        sink,
        step: (kind, n, o) => this.step(kind, n, o),
      };
      const speculative = await decodeAdaptive(run);
      sink.finish();
      const out = sink.out;
      // Each token the sink took came from a step that wrote its input token's keys and values (a verify pass, in
      // speculative rounds); a step that skipped an FFN block did not write what a dense pass would, so the reusable
      // prefix ends before the first of those.
      if (sink.stopReason !== "aborted") model.cached = [...ids, ...out].slice(0, ids.length - 1 + sink.denseSteps);
      const end = performance.now();
      const prefillMs = (sink.firstTokenAt || end) - t0;
      const decodeMs = end - (sink.firstTokenAt || end);
      const ffnSkip = sink.ffnStats();
      return {
        text: sink.text,
        tokenIds: out,
        stopReason: sink.stopReason,
        stats: {
          promptTokens: ids.length,
          cachedPromptTokens: reused,
          generatedTokens: out.length,
          timeToFirstTokenMs: prefillMs,
          prefillTokensPerSecond: ids.length / (prefillMs / 1000),
          decodeTokensPerSecond: out.length > 1 ? (out.length - 1) / (decodeMs / 1000) : 0,
          gpuBytes: model.gpu.gpuBytes,
          ...(ffnSkip ? { ffnSkip } : {}),
          ...(speculative ? { speculative } : {}),
        },
      };
    } finally {
      this.end(signal);
    }
  }

  dispose(): void {
    this.abort();
    this.unload();
  }

  private loaded(): NonNullable<Engine["model"]> {
    if (this.deviceError) throw this.deviceError;
    if (!this.model) throw new SkiffError("bad-argument", "No model is loaded: call load() first");
    return this.model;
  }

  private step(kind: StepKind, nTokens: number, o: StepOptions = {}): Promise<PreparedStep> {
    const model = this.loaded();
    const skip = o.ffnSkip ? `${o.ffnSkip.first}-${o.ffnSkip.end}` : "";
    const key = `${kind}:${nTokens}:${o.sampler ?? ""}:${o.repetitionPenalty ? "penalty" : ""}:${skip}:${o.copy ?? 0}`;
    let step = model.steps.get(key);
    if (!step) {
      const graph = buildLlamaStep(model.gpu.manifest.config, {
        kind,
        nTokens,
        capacity: model.gpu.capacity,
        sampler: o.sampler,
        repetitionPenalty: o.repetitionPenalty,
        ffnSkip: o.ffnSkip,
      });
      step = this.gpu().then((ctx) => prepareStep(ctx, graph, model.gpu.resources, opTable, key));
      model.steps.set(key, step);
      step.catch(() => model.steps.delete(key));
    }
    return step;
  }

  private submit(ctx: GpuContext, step: PreparedStep): void {
    const encoder = ctx.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    step.encode(pass);
    pass.end();
    ctx.device.queue.submit([encoder.finish()]);
  }

  private begin(): AbortSignal {
    if (this.controller && !this.controller.signal.aborted) {
      throw new SkiffError("bad-argument", "The engine is busy with another import, load or generation");
    }
    this.controller = new AbortController();
    return this.controller.signal;
  }

  private end(signal: AbortSignal): void {
    if (this.controller?.signal === signal) this.controller = undefined;
  }
}

/** Length of the common start of `a` and `b`, at most `limit`. */
function sharedPrefix(a: readonly number[], b: readonly number[], limit: number): number {
  let n = 0;
  while (n < limit && n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

function info(m: LlamaManifest | ModelManifest): ModelInfo {
  const sparseTensors = m.tensors.flatMap((t) =>
    t.sparse ? [{ name: t.name, pattern: t.sparse, type: t.dtype }] : [],
  );
  return {
    id: m.id,
    name: m.name,
    source: m.source,
    storedBytes: m.storedBytes,
    config: m.config as LlamaConfig,
    sparseTensors,
  };
}

// <skiff-chat>: a chat box over the page's shared Skiff worker. Finds or imports its `model`, loads it,
// streams generations into a transcript as text, and reports everything as bubbling, composed events.
import { SkiffError, type SkiffErrorCode } from "../errors.ts";
import type { GenerateResult, LoadedModelInfo, ModelInfo } from "../engine/engine.ts";
import type { ImportProgress } from "../storage/import-gguf.ts";
import type { ChatMessage } from "../engine/chat-template.ts";
import type { SkiffClient } from "../worker/client.ts";
import { absoluteModelUrl, contextLengthFromAttributes, fullPrompt, settingsFromAttributes } from "./attributes.ts";
import { ClientRegistry, sharedRegistry, type LoadRequest } from "./registry.ts";
import { addTurn, renderView, setProgress, setStatus, type ChatView } from "./template.ts";

/** `skiff-progress`: import phases (download, store) carry the importer's counts; `load` when weights start
 * going to the GPU (only on the element whose request really loads them); `ready` when the model can generate. */
export type SkiffProgressDetail =
  | ({ phase: "download" | "store" } & Omit<ImportProgress, "phase">)
  | { phase: "load"; model: ModelInfo }
  | { phase: "ready"; model: LoadedModelInfo };

export interface SkiffTokenDetail {
  id: number;
  text: string;
  index: number;
  /** With FFN skipping on: per layer, whether the token's FFN block ran. */
  ffnRan?: boolean[];
}

export interface SkiffErrorDetail {
  code: SkiffErrorCode | "unknown";
  message: string;
}

export interface SkiffChatEventMap {
  "skiff-progress": CustomEvent<SkiffProgressDetail>;
  "skiff-token": CustomEvent<SkiffTokenDetail>;
  "skiff-done": CustomEvent<GenerateResult>;
  "skiff-error": CustomEvent<SkiffErrorDetail>;
}

const NO_WEBGPU =
  "WebGPU is not available in this browser: use a recent Chrome or Edge, or enable WebGPU (chrome://flags/#enable-unsafe-webgpu).";

interface Prepared {
  request: LoadRequest;
  loaded: LoadedModelInfo;
}

export class SkiffChatElement extends HTMLElement {
  static readonly observedAttributes = ["model", "context-length", "mode"];

  private readonly view: ChatView;
  private registry: ClientRegistry = sharedRegistry();
  private prepared?: Promise<Prepared>;
  /** Bumped by every new preparation, so an older, slower one never overwrites the newer one's state. */
  private preparation = 0;
  private modelReady = false;
  private generating = 0;
  /** The turns so far in chat mode (`mode="chat"`), the system text first. */
  private conversation: ChatMessage[] = [];

  constructor() {
    super();
    this.view = renderView(this.attachShadow({ mode: "open" }));
    this.view.form.addEventListener("submit", (e) => {
      e.preventDefault();
      const prompt = this.view.input.value;
      if (!prompt.trim() || this.generating > 0) return;
      this.view.input.value = "";
      // A failure is already reported as a skiff-error event and on the status line.
      this.generate(prompt).catch(() => undefined);
    });
    this.view.input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.view.form.requestSubmit();
      }
    });
    this.view.stop.addEventListener("click", () => this.abort());
  }

  connectedCallback(): void {
    if (!this.prepared) this.prepare();
  }

  disconnectedCallback(): void {
    this.abort();
  }

  attributeChangedCallback(name: string, old: string | null, value: string | null): void {
    if (old === value) return;
    this.conversation = [];
    if (name !== "mode" && this.isConnected) this.prepare();
  }

  /** Chat mode: the conversation so far (a copy). */
  get messages(): ChatMessage[] {
    return this.conversation.map((m) => ({ ...m }));
  }

  /** Chat mode: starts a new conversation (the transcript stays on screen until the page clears it). */
  resetConversation(): void {
    this.conversation = [];
  }

  /** Resolves when the model is on the GPU and the element can generate; rejects with the load's SkiffError. */
  get ready(): Promise<LoadedModelInfo> {
    return (this.prepared ?? this.prepare()).then((p) => p.loaded);
  }

  /** Uses `client` instead of the page's shared one (its own worker, so its own model can stay loaded). */
  useClient(client: SkiffClient): void {
    this.registry = new ClientRegistry(() => client);
    if (this.isConnected) this.prepare();
  }

  /** Generates from `prompt` (after the `system` text, if set), streaming into the transcript. */
  async generate(prompt: string): Promise<GenerateResult> {
    this.generating++;
    this.updateControls();
    let turn: HTMLDivElement | undefined;
    try {
      const { request } = await (this.prepared ?? this.prepare());
      const settings = settingsFromAttributes(this);
      addTurn(this.view, "user", prompt);
      turn = addTurn(this.view, "model");
      turn.dataset.streaming = "";
      setStatus(this.view, "Generating…", "busy");
      const stream = new TextStream(turn, (t) => {
        this.view.transcript.scrollTop = this.view.transcript.scrollHeight;
        this.emit("skiff-token", t);
      });
      const system = this.getAttribute("system");
      // Chat mode keeps the conversation and prompts through the model's chat template; the engine reuses the
      // cached keys and values of the turns before.
      const chat = this.getAttribute("mode") === "chat";
      if (chat) {
        if (this.conversation.length === 0 && system) this.conversation.push({ role: "system", content: system });
        this.conversation.push({ role: "user", content: prompt });
      }
      const input = chat ? { messages: [...this.conversation] } : fullPrompt(system, prompt);
      const result = await this.registry
        .generate(this, request, input, settings, (t) => stream.push(t))
        .catch((e: unknown) => {
          if (chat) this.conversation.pop();
          throw e;
        });
      if (chat) this.conversation.push({ role: "assistant", content: result.text });
      await stream.settle(result.text);
      delete turn.dataset.streaming;
      const s = result.stats;
      setStatus(
        this.view,
        `${s.generatedTokens} tokens · ${s.decodeTokensPerSecond.toFixed(1)} tok/s${s.ffnSkip ? ` · FFN blocks skipped ${(100 * s.ffnSkip.skipRatio).toFixed(1)}%` : ""} · stopped: ${result.stopReason}`,
        "ready",
      );
      this.emit("skiff-done", result);
      return result;
    } catch (e) {
      if (turn) delete turn.dataset.streaming;
      throw this.fail(e);
    } finally {
      this.generating--;
      this.updateControls();
    }
  }

  /**
   * Stops what this element is doing: a running generation resolves with what it has (stopReason "aborted");
   * one still queued behind another element's rejects with SkiffError "aborted".
   */
  abort(): void {
    this.registry.abort(this);
  }

  /** Finds or imports the model and loads it; failures are reported here, so the promise is safe to drop. */
  private prepare(): Promise<Prepared> {
    const id = ++this.preparation;
    const current = () => id === this.preparation;
    const prepared = this.startPreparation(current);
    this.prepared = prepared;
    prepared.catch((e: unknown) => {
      if (!current()) return;
      // No model yet is a state, not an error: the page may set the attribute later.
      if (e instanceof SkiffError && e.code === "bad-argument" && !this.getAttribute("model")?.trim()) return;
      this.fail(e);
    });
    return prepared;
  }

  private async startPreparation(current: () => boolean): Promise<Prepared> {
    this.modelReady = false;
    this.updateControls();
    // Settle first: listeners added right after the element is created still hear everything, and
    // several attribute changes in one task make one preparation.
    await Promise.resolve();
    if (!current()) return this.prepared!;
    setProgress(this.view, undefined);
    if (!("gpu" in navigator) || !navigator.gpu) throw new SkiffError("no-webgpu", NO_WEBGPU);
    const model = this.getAttribute("model")?.trim();
    if (!model) {
      setStatus(this.view, "No model: set the model attribute to a GGUF URL or a stored model id.", "pending");
      throw new SkiffError("bad-argument", "Set the model attribute to a GGUF URL or a stored model id");
    }
    const url = absoluteModelUrl(model, document.baseURI);
    setStatus(this.view, `Looking for ${model}…`, "pending");
    const info = await this.registry.resolve(model, url, (p) => {
      if (!current()) return;
      const fraction = p.bytesTotal ? p.bytesDone / p.bytesTotal : 0;
      const verb = p.phase === "download" ? "Downloading" : "Storing";
      setProgress(this.view, fraction, `${verb} ${Math.round(fraction * 100)}%`);
      this.emit("skiff-progress", { ...p });
    });
    if (!current()) return this.prepared!;
    setProgress(this.view, undefined);
    const request: LoadRequest = { model: info, contextLength: contextLengthFromAttributes(this) };
    setStatus(this.view, `Loading ${info.name}…`, "pending");
    let loaded: LoadedModelInfo;
    try {
      loaded = await this.registry.load(this, request, () => {
        if (current()) this.emit("skiff-progress", { phase: "load", model: info });
      });
    } catch (e) {
      // The stored model may have been deleted since it was found: look again next time.
      this.registry.forget(url);
      throw e;
    }
    if (!current()) return this.prepared!;
    this.modelReady = true;
    setStatus(this.view, `${loaded.name} is ready.`, "ready");
    this.emit("skiff-progress", { phase: "ready", model: loaded });
    this.updateControls();
    return { request, loaded };
  }

  private updateControls(): void {
    const busy = this.generating > 0;
    this.view.input.disabled = !this.modelReady;
    this.view.send.disabled = !this.modelReady || busy;
    this.view.stop.disabled = !busy;
  }

  /** Reports an error on the status line and as skiff-error; returns it for rethrowing. */
  private fail(e: unknown): unknown {
    const code = e instanceof SkiffError ? e.code : "unknown";
    const message = e instanceof Error ? e.message : String(e);
    setProgress(this.view, undefined);
    setStatus(this.view, message, code === "aborted" && this.modelReady ? "ready" : "error");
    this.emit("skiff-error", { code, message });
    return e;
  }

  private emit<K extends keyof SkiffChatEventMap>(type: K, detail: SkiffChatEventMap[K]["detail"]): void {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }
}

/**
 * Streamed tokens into one transcript turn, as Text nodes only. Token callbacks travel on their own message
 * channel, so the result can overtake the last of them: `settle` waits for the stream to catch up.
 */
class TextStream {
  private text = "";
  private closed = false;
  private waiting?: { target: string; resolve: () => void };

  constructor(
    private readonly turn: HTMLElement,
    private readonly onToken: (t: SkiffTokenDetail) => void,
  ) {}

  push(t: SkiffTokenDetail): void {
    if (this.closed) return;
    this.text += t.text;
    if (t.text) this.turn.append(document.createTextNode(t.text));
    this.onToken({ id: t.id, text: t.text, index: t.index, ...(t.ffnRan ? { ffnRan: t.ffnRan } : {}) });
    if (this.waiting && this.text === this.waiting.target) this.waiting.resolve();
  }

  async settle(final: string, timeoutMs = 2000): Promise<void> {
    if (this.text !== final) {
      await new Promise<void>((resolve) => {
        this.waiting = { target: final, resolve };
        setTimeout(resolve, timeoutMs);
      });
    }
    this.closed = true;
    if (this.text !== final) this.turn.replaceChildren(document.createTextNode(final));
  }
}

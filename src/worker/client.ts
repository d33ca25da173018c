// The page's side: a typed client over the worker's Engine. Callbacks cross the boundary as Comlink proxies,
// and errors arrive as SkiffError with their code.
import * as Comlink from "comlink";
import type {
  ChatPrompt,
  Engine,
  GenerateResult,
  LoadedModelInfo,
  LoadOptions,
  LoadProgress,
  ModelInfo,
  TokenEvent,
} from "../engine/engine.ts";
import type { GenerateSettings } from "../engine/settings.ts";
import type { ImportProgress } from "../storage/import-gguf.ts";
import type { StorageUsage } from "../storage/model-store.ts";
import { registerErrorTransfer } from "./errors.ts";
import { Generation } from "./generation.ts";
import { ChatCompletions } from "../engine/chat-completions.ts";
import type { ChatMessage } from "../engine/chat-template.ts";

export class SkiffClient {
  private readonly worker: Worker;
  private readonly engine: Comlink.Remote<Engine>;
  private loadedId?: string;
  /** OpenAI-shaped chat over the loaded model: `client.chat.completions.create({ messages, stream })`. */
  readonly chat: { completions: ChatCompletions };

  constructor(worker?: Worker) {
    registerErrorTransfer();
    this.worker = worker ?? new Worker(new URL("./worker.ts", import.meta.url), { type: "module", name: "skiff" });
    this.engine = Comlink.wrap<Engine>(this.worker);
    this.chat = {
      completions: new ChatCompletions({
        chatPrompt: (messages) => this.chatPrompt(messages),
        generate: (prompt, settings, onToken) => this.generate(prompt, settings, onToken),
        loadedModelId: () => this.loadedId,
      }),
    };
  }

  /** A conversation's prompt as the loaded model's chat template renders it, and its token ids. */
  chatPrompt(messages: ChatMessage[]): Promise<ChatPrompt> {
    return this.engine.chatPrompt(messages);
  }

  deviceInfo(): ReturnType<Engine["deviceInfo"]> {
    return this.engine.deviceInfo();
  }

  /** Progress arrives through `options.onProgress` (or the third argument). Relative URLs resolve against the page. */
  importModel(
    source: Blob | string,
    options: { name?: string; sparse?: boolean; onProgress?: (p: ImportProgress) => void } = {},
    onProgress?: (p: ImportProgress) => void,
  ): Promise<ModelInfo> {
    const { onProgress: fromOptions, ...rest } = options;
    const report = onProgress ?? fromOptions;
    // The worker resolves relative URLs against its own script, which differs from the page's in a bundle.
    const absolute = typeof source === "string" ? new URL(source, location.href).href : source;
    return this.engine.importModel(absolute, rest, report && Comlink.proxy(report));
  }

  listModels(): Promise<ModelInfo[]> {
    return this.engine.listModels();
  }

  deleteModel(id: string): Promise<void> {
    return this.engine.deleteModel(id);
  }

  storageUsage(): Promise<StorageUsage> {
    return this.engine.storageUsage();
  }

  /** Kernel tuning on a first load reports through `options.onProgress` (or the third argument). */
  async load(
    id: string,
    options: LoadOptions & { onProgress?: (p: LoadProgress) => void } = {},
    onProgress?: (p: LoadProgress) => void,
  ): Promise<LoadedModelInfo> {
    const { onProgress: fromOptions, ...rest } = options;
    const report = onProgress ?? fromOptions;
    const loaded = await this.engine.load(id, rest, report && Comlink.proxy(report));
    this.loadedId = loaded.id;
    return loaded;
  }

  /**
   * Starts a generation: iterate it for tokens (`for await (const t of client.generate(...))`) or await it for the
   * result; `onToken` is a third way to watch the tokens.
   */
  generate(
    prompt: string | number[] | { ids: number[] },
    settings: Partial<GenerateSettings> = {},
    onToken?: (t: TokenEvent) => void,
  ): Generation {
    return new Generation((sink) =>
      this.engine.generate(
        prompt,
        settings,
        Comlink.proxy((t: TokenEvent) => {
          sink(t);
          onToken?.(t);
        }),
      ),
    );
  }

  abort(): Promise<void> {
    return this.engine.abort();
  }

  /** Stops any work in flight, releases the GPU memory and ends the worker. */
  async dispose(): Promise<void> {
    await this.engine.dispose().catch(() => undefined);
    this.worker.terminate();
  }

  terminate(): void {
    this.worker.terminate();
  }
}

/** A client over a new worker: the entry point for pages. */
export function createEngine(worker?: Worker): SkiffClient {
  return new SkiffClient(worker);
}

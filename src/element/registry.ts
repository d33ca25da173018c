// One SkiffClient per page, shared by every <skiff-chat>: one worker and one copy of the weights on the GPU.
// The engine does one import, load or generation at a time, so every call goes through one queue here.
//
// Several models on one page: the GPU holds one model at a time. Each generation makes sure its element's
// model is the loaded one first, so elements naming different models all work, but alternating between them
// reloads the weights from IndexedDB each time (last loaded wins). One worker per model would keep them all
// resident at the price of GPU memory per model; a page that needs that can give an element its own client
// with `setClient`.
import { SkiffError } from "../errors.ts";
import type { GenerateResult, LoadedModelInfo, ModelInfo, TokenEvent } from "../engine/engine.ts";
import type { GenerateSettings } from "../engine/settings.ts";
import type { ChatMessage } from "../engine/chat-template.ts";
import type { ImportProgress } from "../storage/import-gguf.ts";
import { SkiffClient } from "../worker/client.ts";

export interface LoadRequest {
  model: ModelInfo;
  contextLength?: number;
}

interface Task {
  owner: object;
  cancelled: boolean;
  run(): Promise<void>;
}

/** A model attribute being found or imported; every element asking for it hears the import's progress. */
interface Resolution {
  promise: Promise<ModelInfo>;
  listeners: Set<(p: ImportProgress) => void>;
}

export class ClientRegistry {
  private client?: SkiffClient;
  private readonly queue: Task[] = [];
  private running?: Task;
  private loaded?: { key: string; info: LoadedModelInfo };
  private readonly resolutions = new Map<string, Resolution>();

  constructor(private readonly makeClient: () => SkiffClient = () => new SkiffClient()) {}

  /** The page's client, made (with its worker) on first use. */
  getClient(): SkiffClient {
    this.client ??= this.makeClient();
    return this.client;
  }

  /**
   * The stored model a `model` attribute names: a stored model id, or a URL whose import is already stored
   * (matched by its `source`), or else the URL imported now. Concurrent asks for one model share one import.
   */
  resolve(model: string, url: string, onProgress?: (p: ImportProgress) => void): Promise<ModelInfo> {
    let r = this.resolutions.get(url);
    if (!r) {
      const listeners = new Set<(p: ImportProgress) => void>();
      const promise = this.enqueue(this, async () => {
        const client = this.getClient();
        const models = await client.listModels();
        const stored = models.find((m) => m.id === model) ?? models.find((m) => m.source === url || m.source === model);
        if (stored) return stored;
        const name = decodeURIComponent(new URL(url).pathname.split("/").pop() || url);
        return client.importModel(url, { name }, (p) => listeners.forEach((l) => l(p)));
      });
      r = { promise, listeners };
      this.resolutions.set(url, r);
      const done = r;
      // A failure is forgotten so that a later ask tries again; a success stays (the store keeps the model).
      promise.then(
        () => done.listeners.clear(),
        () => this.resolutions.get(url) === done && this.resolutions.delete(url),
      );
    }
    if (onProgress) r.listeners.add(onProgress);
    return r.promise;
  }

  /** Drops what `resolve` remembers about a model, so the next ask looks in the store again. */
  forget(url: string): void {
    this.resolutions.delete(url);
  }

  /** Puts the model on the GPU unless it is there already; `onLoad` runs only when a load really starts. */
  load(owner: object, request: LoadRequest, onLoad?: () => void): Promise<LoadedModelInfo> {
    return this.enqueue(owner, () => this.loadNow(request, onLoad));
  }

  /** Generates with the element's model, loading it first if another element's model replaced it. A conversation
   *  (`{ messages }`) is prompted through the model's chat template. */
  generate(
    owner: object,
    request: LoadRequest,
    prompt: string | { messages: ChatMessage[] },
    settings: Partial<GenerateSettings>,
    onToken: (t: TokenEvent) => void,
  ): Promise<GenerateResult> {
    return this.enqueue(owner, async () => {
      await this.loadNow(request);
      const client = this.getClient();
      if (typeof prompt === "string") return client.generate(prompt, settings, onToken);
      const { ids } = await client.chatPrompt(prompt.messages);
      return client.generate({ ids }, settings, onToken);
    });
  }

  /**
   * Stops the owner's tasks: the running one through the engine (a generation then resolves with what it has,
   * stopReason "aborted"); those still queued reject with SkiffError "aborted" without starting.
   */
  abort(owner: object): void {
    for (const t of this.queue) if (t.owner === owner) t.cancelled = true;
    if (this.running?.owner === owner && this.client) void this.client.abort();
  }

  private async loadNow(request: LoadRequest, onLoad?: () => void): Promise<LoadedModelInfo> {
    const key = `${request.model.id}@${request.contextLength ?? "default"}`;
    if (this.loaded?.key === key) return this.loaded.info;
    onLoad?.();
    // The engine unloads the old model before loading, so a failed load leaves nothing loaded.
    this.loaded = undefined;
    const info = await this.getClient().load(request.model.id, { contextLength: request.contextLength });
    this.loaded = { key, info };
    return info;
  }

  /** Runs `work` after every task queued before it. */
  private enqueue<T>(owner: object, work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const task: Task = {
        owner,
        cancelled: false,
        run: async () => {
          if (task.cancelled) return reject(new SkiffError("aborted", "Stopped before it started"));
          try {
            resolve(await work());
          } catch (e) {
            reject(e);
          }
        },
      };
      this.queue.push(task);
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    for (let task = this.queue.shift(); task; task = this.queue.shift()) {
      this.running = task;
      await task.run();
      this.running = undefined;
    }
  }
}

let pageRegistry: ClientRegistry | undefined;

/** The registry every <skiff-chat> on the page shares unless it was given its own. */
export function sharedRegistry(): ClientRegistry {
  pageRegistry ??= new ClientRegistry();
  return pageRegistry;
}

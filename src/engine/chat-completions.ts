// An OpenAI-shaped chat API over any generator of tokens (the worker client, or an Engine in-thread):
// `chat.completions.create({ messages, stream, max_tokens, temperature, top_p, seed, stop })` returns a
// `chat.completion`, or with `stream: true` an async iterable of `chat.completion.chunk`s, the last of which carries
// the finish reason and the usage counts. The conversation's prompt comes from the model's chat template; the
// engine skips the prefill of the part the previous turn left in the KV cache (usage.prompt_tokens_details).
import { SkiffError } from "../errors.ts";
import { Generation } from "../worker/generation.ts";
import type { ChatMessage } from "./chat-template.ts";
import type { GenerateResult, StopReason, TokenEvent } from "./engine.ts";
import type { GenerateSettings } from "./settings.ts";

export interface ChatCompletionRequest {
  messages: ChatMessage[];
  stream?: boolean;
  /** Reported back as the completion's `model`; defaults to the loaded model's id. */
  model?: string;
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  /** Not in OpenAI's API; llama.cpp's server takes it too. */
  top_k?: number;
  seed?: number;
  stop?: string | string[];
}

export type FinishReason = "stop" | "length";

export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
}

export interface ChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: { index: 0; message: { role: "assistant"; content: string }; finish_reason: FinishReason }[];
  usage: ChatUsage;
}

export interface ChatCompletionChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  choices: { index: 0; delta: { role?: "assistant"; content?: string }; finish_reason: FinishReason | null }[];
  /** On the last chunk only. */
  usage?: ChatUsage;
}

/** What the API needs from an engine: the templated prompt of a conversation, and generation from token ids. */
export interface ChatBackend {
  chatPrompt(messages: ChatMessage[]): Promise<{ ids: number[] }> | { ids: number[] };
  generate(
    prompt: { ids: number[] },
    settings: Partial<GenerateSettings>,
    onToken: (t: TokenEvent) => void,
  ): PromiseLike<GenerateResult>;
  /** The loaded model's id, for `model` in responses. */
  loadedModelId(): string | undefined;
}

export class ChatCompletions {
  private count = 0;

  constructor(private readonly backend: ChatBackend) {}

  create(request: ChatCompletionRequest & { stream: true }): Promise<AsyncIterable<ChatCompletionChunk>>;
  create(request: ChatCompletionRequest & { stream?: false }): Promise<ChatCompletion>;
  async create(request: ChatCompletionRequest): Promise<ChatCompletion | AsyncIterable<ChatCompletionChunk>> {
    const settings = settingsOf(request);
    const { ids } = await this.backend.chatPrompt(request.messages);
    const meta = {
      id: `chatcmpl-skiff-${Date.now().toString(36)}-${this.count++}`,
      created: Math.floor(Date.now() / 1000),
      model: request.model ?? this.backend.loadedModelId() ?? "skiff",
    };
    const generation = new Generation((sink) => Promise.resolve(this.backend.generate({ ids }, settings, sink)));
    if (request.stream) return streamChunks(generation, meta);
    const r = await generation;
    return {
      ...meta,
      object: "chat.completion",
      choices: [
        { index: 0, message: { role: "assistant", content: r.text }, finish_reason: finishReason(r.stopReason) },
      ],
      usage: usageOf(r),
    };
  }
}

async function* streamChunks(
  generation: Generation,
  meta: { id: string; created: number; model: string },
): AsyncGenerator<ChatCompletionChunk> {
  const chunk = (delta: ChatCompletionChunk["choices"][0]["delta"], finish: FinishReason | null = null) => ({
    ...meta,
    object: "chat.completion.chunk" as const,
    choices: [{ index: 0 as const, delta, finish_reason: finish }],
  });
  yield chunk({ role: "assistant", content: "" });
  for await (const t of generation) if (t.text) yield chunk({ content: t.text });
  const r = await generation;
  yield { ...chunk({}, finishReason(r.stopReason)), usage: usageOf(r) };
}

function finishReason(reason: StopReason): FinishReason {
  return reason === "max-tokens" || reason === "context-full" ? "length" : "stop";
}

function usageOf(r: GenerateResult): ChatUsage {
  const { promptTokens, generatedTokens, cachedPromptTokens } = r.stats;
  return {
    prompt_tokens: promptTokens,
    completion_tokens: generatedTokens,
    total_tokens: promptTokens + generatedTokens,
    prompt_tokens_details: { cached_tokens: cachedPromptTokens },
  };
}

/** OpenAI's request fields as generation settings; what the request leaves out keeps Skiff's defaults. */
function settingsOf(r: ChatCompletionRequest): Partial<GenerateSettings> {
  if (r === null || typeof r !== "object") throw new SkiffError("bad-argument", "create() takes a request object");
  const s: Partial<GenerateSettings> = { stopAtEos: true };
  if (r.max_tokens !== undefined) s.maxTokens = r.max_tokens;
  if (r.temperature !== undefined) s.temperature = r.temperature;
  if (r.top_p !== undefined) s.topP = r.top_p;
  if (r.top_k !== undefined) s.topK = r.top_k;
  if (r.seed !== undefined) s.seed = r.seed;
  if (r.stop !== undefined) s.stop = typeof r.stop === "string" ? [r.stop] : r.stop;
  return s;
}

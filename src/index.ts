// Skiff's public library entry: the worker client, the engine's types, SkiffError, and <skiff-chat>
// (importing this module registers the element).
export { SkiffClient, createEngine } from "./worker/client.ts";
export { Generation } from "./worker/generation.ts";
export { SkiffError, type SkiffErrorCode } from "./errors.ts";
export type {
  ChatPrompt,
  Engine,
  EngineOptions,
  GenerateResult,
  GenerationStats,
  LoadedModelInfo,
  LoadOptions,
  LoadProgress,
  ModelInfo,
  StopReason,
  TokenEvent,
  TuningSummary,
} from "./engine/engine.ts";
export {
  ChatCompletions,
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatCompletionRequest,
  type ChatUsage,
} from "./engine/chat-completions.ts";
export type { ChatMessage, ChatRole } from "./engine/chat-template.ts";
export type { Tokenizer, TokenizerSpec } from "./tokenizer/tokenizer.ts";
export { pruneGguf, pruneModel, type PruneOptions, type PruneResult } from "./tools/prune.ts";
export type { KernelChoice, KernelStyle, TuneRecord } from "./kernels/tuning.ts";
export {
  DEFAULT_FFN_SKIP,
  DEFAULT_SETTINGS,
  DEFAULT_SPECULATIVE,
  type FfnSkipSettings,
  type GenerateSettings,
  type SpeculativeSettings,
} from "./engine/settings.ts";
export type { ImportProgress } from "./storage/import-gguf.ts";
export type { StorageUsage } from "./storage/model-store.ts";
export {
  ClientRegistry,
  SKIFF_CHAT_TAG,
  SkiffChatElement,
  sharedRegistry,
  type SkiffChatEventMap,
  type SkiffErrorDetail,
  type SkiffProgressDetail,
  type SkiffTokenDetail,
} from "./element/index.ts";

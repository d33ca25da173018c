// Shapes of the model benchmark's input (bench/model-cases.json) and output (bench/results/model-<date>.json).

export type ModelWeightType = "q4_0" | "q8_0";

/** The synthetic vocabulary's byte tokens: <0xNN> is id 3 + NN (after <unk>, <s>, </s>). */
export const FIRST_BYTE_TOKEN = 3;

/** One synthetic Llama model: the shared shape of model-cases.json with this weight type and KV head count. */
export interface ModelCase {
  id: string;
  type: ModelWeightType;
  nKvHeads: number;
  /** Seed of the synthetic weights. */
  seed: number;
  /** Prune the synthetic model (magnitude, `skiff prune` as a library) before running it: Skiff imports the pruned
   *  tensors N:M-compressed and runs its sparse kernels; wllama runs the same bytes dense. The dense original is
   *  the case with the same type, KV heads and seed and no `prune`. */
  prune?: { pattern: string; tensors: "ffn" | "attn" | "all" };
}

export interface WllamaFlavour {
  /** n_threads asked of wllama; more than 1 needs a cross-origin isolated page (COOP/COEP). */
  threads: number;
}

export interface ModelSpec {
  shape: { dim: number; hiddenDim: number; nLayers: number; nHeads: number; vocabSize: number; seqLen: number };
  contextLength: number;
  prompt: { tokens: number; seed: number };
  /** Tokens generated after the prompt (greedy, EOS ignored). */
  generate: number;
  cases: ModelCase[];
  wllama: WllamaFlavour[];
  /** Runs of each node's dispatches in the per-kernel breakdown of one decode step. */
  breakdown: { warmup: number; runs: number };
}

/** The same prompt two ways: ids for Skiff, text for wllama (BOS + the text tokenizes to exactly the ids). */
export interface ModelPrompt {
  ids: number[];
  text: string;
}

/** The same numbers for every contender, all from the page's wall clock. */
export interface GenerationRun {
  promptTokens: number;
  generatedTokens: number;
  /** Request start to the first generated token (prefill of the whole prompt + the first decode). */
  timeToFirstTokenMs: number;
  /** promptTokens / time to first token. */
  prefillTokensPerSecond: number;
  /** (generatedTokens - 1) / time from the first to the last token. */
  decodeTokensPerSecond: number;
  totalMs: number;
  text: string;
}

export interface ContenderResult {
  name: string;
  /** Model import / load and the warm-up generation, milliseconds (not part of the measured run). */
  setupMs?: { import?: number; load?: number; warmup?: number };
  run?: GenerationRun;
  error?: string;
}

export interface SkiffResult extends ContenderResult {
  gpuBytes?: number;
  weightBytes?: number;
  kvBytes?: number;
  prefillChunk: number;
  tokenIds?: number[];
  /** The load's kernel tuning: op shapes timed, its wall time, and the variant each op shape runs. */
  tuning?: { measured: number; ms: number; choices: Record<string, string> };
}

/** llama.cpp's own timings from llama-server's response (prompt eval and generation, its clock). */
export interface ServerTimings {
  promptTokens: number;
  promptMs: number;
  promptPerSecond: number;
  cachedTokens: number;
  predictedTokens: number;
  predictedMs: number;
  predictedPerSecond: number;
}

export interface WllamaResult extends ContenderResult {
  threadsAsked: number;
  threadsUsed?: number;
  multithread?: boolean;
  serverTimings?: ServerTimings;
  /** Leading generated tokens equal to Skiff's (greedy on the same weights and prompt: a sanity check; the two
   *  drift apart after a while, llama.cpp rounds activations to 8 bits in its quantized matmuls). */
  tokensSameAsSkiff?: number;
  /** Something that makes the run less comparable, e.g. llama.cpp counting other prompt tokens than Skiff. */
  warning?: string;
}

export interface BreakdownGroup {
  op: string;
  nodes: number;
  dispatches: number;
  ms: number;
  /** Of the sum of all kernels. */
  share: number;
}

/** One decode step timed as a whole and node by node (each node's dispatches in a pass of their own). */
export interface DecodeBreakdown {
  position: number;
  source: "timestamp" | "wall";
  stepMs: number;
  /** The whole step by the wall clock: one submit + waiting for the queue. */
  stepWallMs: number;
  kernelSumMs: number;
  /** stepMs / kernelSumMs: below 1 when one pass of everything costs less than the parts on their own. */
  overhead: number;
  /** Milliseconds per token of the engine's measured decode (submit, wait, read back one id). */
  engineMsPerToken?: number;
  groups: BreakdownGroup[];
  nodes: { label: string; op: string; ms: number }[];
}

export interface ModelCaseResult {
  id: string;
  title: string;
  type: ModelWeightType;
  nKvHeads: number;
  ggufBytes: number;
  /** Writing the GGUF with syntheticLlamaGguf. */
  writeMs: number;
  skiff?: SkiffResult;
  breakdown?: DecodeBreakdown;
  breakdownError?: string;
  wllama: WllamaResult[];
  error?: string;
}

export interface ModelBenchResults {
  date: string;
  /** The machine's 1-minute load average before and after the run (set by bench/run-model.mjs). */
  loadAverage?: { before: number; after: number };
  userAgent: string;
  adapter: { vendor: string; architecture: string; device: string; description: string; isCpuAdapter: boolean };
  features: { shaderF16: boolean; subgroups: boolean; timestampQuery: boolean };
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
  method: string;
  spec: ModelSpec;
  wllamaVersion?: string;
  cases: ModelCaseResult[];
  fatal?: string;
  durationS: number;
}

// The model benchmark's peer: wllama (llama.cpp's llama-server core compiled to WebAssembly) on the same GGUF
// bytes, CPU only, loaded from an in-page File (the .wasm is served by the local Vite server from node_modules).
import { Wllama } from "@wllama/wllama";
import wasmUrl from "@wllama/wllama/esm/wasm/wllama.wasm?url";
import wllamaPackage from "@wllama/wllama/package.json";
import type { RawCompletionChunk, RawCompletionParams } from "@wllama/wllama";
import { errorText } from "./timing.ts";
import { FIRST_BYTE_TOKEN } from "./model-types.ts";
import type {
  GenerationRun,
  ModelPrompt,
  ModelSpec,
  ServerTimings,
  WllamaFlavour,
  WllamaResult,
} from "./model-types.ts";

export function wllamaDescription(): string {
  return `@wllama/wllama ${wllamaPackage.version} (llama.cpp ${Wllama.getLibllamaVersion()}), WebAssembly CPU backend`;
}

/** The last native log lines, attached to an error so a failed load says why. */
class LogTail {
  private lines: string[] = [];
  push(kind: string, args: unknown[]): void {
    this.lines.push(`${kind}: ${args.map(String).join(" ")}`);
    if (this.lines.length > 8) this.lines.shift();
  }
  text(): string {
    return this.lines.join(" / ");
  }
}

/**
 * Byte tokens never win: llama-server fails on generated text that is not valid UTF-8 (a lone byte token, e.g.
 * 0x89, throws json type_error 316 and kills the request), and random weights do pick byte tokens now and then.
 * A logit bias costs nothing measurable per token; it can only make the generated text differ from Skiff's.
 */
const NO_BYTE_TOKENS: Record<string, number> = Object.fromEntries(
  Array.from({ length: 256 }, (_, b) => [String(FIRST_BYTE_TOKEN + b), -1000]),
);

/**
 * Greedy and nothing else: no penalties, EOS ignored, the prompt evaluated afresh each request. The body goes to
 * llama-server as JSON; wllama's types lack `cache_prompt` and type `logit_bias` two ways at once, hence the cast.
 */
function completion(prompt: string, maxTokens: number): RawCompletionParams {
  return {
    prompt,
    logit_bias: NO_BYTE_TOKENS,
    max_tokens: maxTokens,
    temperature: 0,
    temp: 0,
    top_k: 1,
    penalty_repeat: 1,
    ignore_eos: true,
    cache_prompt: false,
  } as unknown as RawCompletionParams;
}

export async function benchWllama(
  bytes: Uint8Array,
  prompt: ModelPrompt,
  warmupPrompt: string,
  spec: ModelSpec,
  flavour: WllamaFlavour,
  log: (line: string) => void,
): Promise<WllamaResult> {
  const result: WllamaResult = {
    name: `wllama, ${flavour.threads} thread${flavour.threads > 1 ? "s" : ""}`,
    threadsAsked: flavour.threads,
    setupMs: {},
  };
  const tail = new LogTail();
  const logger = {
    debug: () => undefined,
    log: (...a: unknown[]) => tail.push("log", a),
    warn: (...a: unknown[]) => tail.push("warn", a),
    error: (...a: unknown[]) => tail.push("error", a),
  };
  const wllama = new Wllama({ default: wasmUrl }, { logger, allowOffline: true });
  try {
    let t = performance.now();
    await wllama.loadModel([new File([bytes as BlobPart], "model.gguf")], {
      n_ctx: spec.contextLength,
      n_threads: flavour.threads,
      // 0 GPU layers: the WebAssembly CPU backend (wllama would otherwise offload to its WebGPU backend).
      n_gpu_layers: 0,
      n_parallel: 1,
      seed: 1,
    });
    result.setupMs!.load = performance.now() - t;
    result.threadsUsed = wllama.getNumThreads();
    result.multithread = wllama.isMultithread();
    t = performance.now();
    await wllama.createCompletion({ ...completion(warmupPrompt, 2), stream: false });
    result.setupMs!.warmup = performance.now() - t;
    result.run = await timedCompletion(wllama, prompt, spec.generate, result);
    log(
      `  ${result.name}: TTFT ${result.run.timeToFirstTokenMs.toFixed(0)} ms, ${result.run.decodeTokensPerSecond.toFixed(2)} tok/s decode`,
    );
  } catch (e) {
    const native = tail.text();
    result.error = native ? `${errorText(e)} (native log: ${native})` : errorText(e);
    log(`  ${result.name} failed: ${result.error}`);
  } finally {
    await wllama.exit().catch(() => undefined);
  }
  return result;
}

/** One streamed completion timed on the page's clock: first chunk = first token, last chunk = last token. */
async function timedCompletion(
  wllama: Wllama,
  prompt: ModelPrompt,
  generate: number,
  result: WllamaResult,
): Promise<GenerationRun> {
  let firstAt = 0;
  let lastAt = 0;
  let chunks = 0;
  let text = "";
  let timings: RawCompletionChunk["timings"];
  const t0 = performance.now();
  await wllama.createCompletion({
    ...completion(prompt.text, generate),
    stream: true,
    onData: (chunk: RawCompletionChunk) => {
      const now = performance.now();
      if (chunk.timings) timings = chunk.timings;
      const choice = chunk.choices?.[0];
      if (!choice || (choice.text === "" && choice.finish_reason)) return;
      if (chunks === 0) firstAt = now;
      lastAt = now;
      chunks++;
      text += choice.text;
    },
  });
  const end = performance.now();
  if (timings) result.serverTimings = serverTimings(timings);
  if (timings && timings.prompt_n !== prompt.ids.length) {
    result.warning = `llama.cpp evaluated ${timings.prompt_n} prompt tokens, Skiff ${prompt.ids.length}`;
  }
  // A token whose bytes do not end a UTF-8 character comes out with the next one, so chunks can be fewer
  // than tokens: the count is llama.cpp's own where it reports one.
  const generatedTokens = timings?.predicted_n ?? chunks;
  const ttft = firstAt - t0;
  return {
    promptTokens: timings?.prompt_n ?? prompt.ids.length,
    generatedTokens,
    timeToFirstTokenMs: ttft,
    prefillTokensPerSecond: prompt.ids.length / (ttft / 1000),
    decodeTokensPerSecond: generatedTokens > 1 ? (generatedTokens - 1) / ((lastAt - firstAt) / 1000) : 0,
    totalMs: end - t0,
    text,
  };
}

function serverTimings(t: NonNullable<RawCompletionChunk["timings"]>): ServerTimings {
  return {
    promptTokens: t.prompt_n,
    promptMs: t.prompt_ms,
    promptPerSecond: t.prompt_per_second,
    cachedTokens: t.cache_n,
    predictedTokens: t.predicted_n,
    predictedMs: t.predicted_ms,
    predictedPerSecond: t.predicted_per_second,
  };
}

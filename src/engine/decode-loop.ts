// Plain decoding, dense or with FFN skipping: one decode step per token, pipelined so that the sampled id never leaves
// the GPU to feed the next step (step p+1 is submitted before step p's id is read back). With FFN skipping the step
// starts with the skip plan and ends by copying the per-layer flags of the blocks that ran next to the id, so the map
// costs no extra readback. Also the run context that the speculative loop shares.
import type { GpuContext } from "../gpu/device.ts";
import type { PreparedStep } from "../graph/executor.ts";
import { initialFfnState } from "../kernels/ffn-plan.ts";
import { samplerParams } from "../kernels/sample.ts";
import { REPETITION_WINDOW, type StepKind } from "../models/llama.ts";
import type { DecodeBuffers } from "./decode-buffers.ts";
import type { GpuModel } from "./gpu-model.ts";
import { ffnSkipRange, isGreedy, type FfnSkipSettings, type ResolvedSettings } from "./settings.ts";
import type { TokenSink } from "./token-sink.ts";

export interface StepOptions {
  sampler?: "argmax" | "sample";
  repetitionPenalty?: boolean;
  /** Gate the FFN blocks of layers [first, end) on the skip plan. */
  ffnSkip?: { first: number; end: number };
  /** A separate copy of the same step (its own uniforms), for steps chained in one command buffer. */
  copy?: number;
}

/** What a decoding loop needs from the engine for one generation. */
export interface DecodeRun {
  ctx: GpuContext;
  gpu: GpuModel;
  buffers: DecodeBuffers;
  settings: ResolvedSettings;
  signal: AbortSignal;
  prompt: number[];
  sink: TokenSink;
  step(kind: StepKind, nTokens: number, o?: StepOptions): Promise<PreparedStep>;
}

/** Where a decoding loop stands: the next step runs `token` at `pos` (its keys and values are not cached yet). */
export interface DecodeCursor {
  pos: number;
  token: number;
}

/** Where plain decoding stopped, and its steady pace: ms between the first and last token's arrival over the tokens
 *  between (undefined under two tokens), which leaves out the first readback's latency that the pipeline hides. */
export interface PlainStretch extends DecodeCursor {
  tokens: number;
  msPerToken?: number;
}

/** Writes a generation's skip policy into a step's plan and clears the state the plan keeps between tokens. */
export function startFfnSkip(run: DecodeRun, steps: PreparedStep[], s: FfnSkipSettings, warmupUntil: number): void {
  const { cap } = ffnSkipRange(run.gpu.manifest.config.nLayers, s);
  for (const step of steps) {
    step.kernel("ffnPlan").update({
      cap,
      recheck: s.recheckEvery,
      threshold: s.threshold,
      warmup_until: warmupUntil,
    });
  }
  run.ctx.device.queue.writeBuffer(run.buffers.ffnState, 0, initialFfnState(run.gpu.manifest.config.nLayers));
}

/**
 * Plain decoding with FFN skipping: during the dense warm-up a step that only measures (no plan, no indirect
 * dispatches, whose validation costs a dispatch each on some implementations), then the gated step.
 */
export async function ffnSkipSteps(run: DecodeRun, warmupUntil: number): Promise<(pos: number) => PreparedStep> {
  const s = run.settings.ffnSkip;
  const { first, end, cap } = ffnSkipRange(run.gpu.manifest.config.nLayers, s);
  const measure = await plainStep(run, { first: 0, end: 0 });
  const gated = cap > 0 ? await plainStep(run, { first, end }) : measure;
  if (gated !== measure) startFfnSkip(run, [gated], s, warmupUntil);
  else run.ctx.device.queue.writeBuffer(run.buffers.ffnState, 0, initialFfnState(run.gpu.manifest.config.nLayers));
  return (pos) => (pos < warmupUntil ? measure : gated);
}

/** The decode step of this generation's sampler and penalty, with their settings written: dense, or measuring FFN
 *  blocks (an empty `skip` range), or gated on the skip plan. */
export async function plainStep(run: DecodeRun, skip?: { first: number; end: number }): Promise<PreparedStep> {
  const s = run.settings;
  const greedy = isGreedy(s);
  const penalised = s.repetitionPenalty !== 1;
  const step = await run.step("decode", 1, {
    sampler: greedy ? "argmax" : "sample",
    repetitionPenalty: penalised,
    ffnSkip: skip,
  });
  if (!greedy) {
    step
      .kernel("sample")
      .update(samplerParams({ temperature: s.temperature, topK: s.topK, topP: s.topP, seed: s.seed }));
  }
  if (penalised) step.kernel("repetitionPenalty").update({ penalty: s.repetitionPenalty });
  return step;
}

/** Fills the repetition penalty's ring with the prompt (the decode step records its own input token from then on). */
export function startRepetitionHistory(run: DecodeRun): void {
  const ids = run.prompt;
  const ring = new Uint32Array(REPETITION_WINDOW);
  for (let p = Math.max(0, ids.length - REPETITION_WINDOW); p < ids.length - 1; p++)
    ring[p % REPETITION_WINDOW] = ids[p];
  run.ctx.device.queue.writeBuffer(run.gpu.history, 0, ring);
}

/**
 * Decodes from `at` until the sink ends the generation, the context is full, or `limit` tokens are made (then the
 * returned cursor is where to go on). Steps are pipelined two deep. A step run past a stop is harmless: its KV entry
 * lies beyond the sequence and is overwritten later.
 */
export async function decodePlain(
  run: DecodeRun,
  step: PreparedStep | ((pos: number) => PreparedStep),
  at: DecodeCursor,
  o: {
    limit?: number;
    ffnFlags?: boolean;
    /** Asked after each token: true stops the stretch (after the step already in flight, whose token is kept). */
    until?: () => boolean;
  } = {},
): Promise<PlainStretch> {
  const { ctx, gpu, sink, signal } = run;
  const limit = o.limit ?? Infinity;
  const nLayers = gpu.manifest.config.nLayers;
  const readbacks = run.buffers.readbacks;
  ctx.device.queue.writeBuffer(gpu.tokens, 0, new Uint32Array([at.token]));
  let slot = 0;
  const stepAt = typeof step === "function" ? step : () => step;
  const launch = (p: number) => {
    const s = stepAt(p);
    s.setPosition(p);
    return decodeStep(run, s, readbacks[slot++ % readbacks.length], o.ffnFlags ? nLayers : 0);
  };
  let pos = at.pos;
  let made = 0;
  if (pos >= gpu.capacity) {
    sink.end("context-full");
    return { ...at, tokens: 0 };
  }
  let firstAt = 0;
  let lastAt = 0;
  let next: Promise<{ id: number; ran?: boolean[] }> | undefined = launch(pos);
  let last = at.token;
  let stopping = false;
  while (next) {
    const wanted = !stopping && sink.out.length + 1 < run.settings.maxTokens && made + 1 < limit;
    const ahead = wanted && pos + 1 < gpu.capacity && !signal.aborted ? launch(pos + 1) : undefined;
    const r = await next;
    next = undefined;
    lastAt = performance.now();
    if (made === 0) firstAt = lastAt;
    made++;
    last = r.id;
    if (sink.push(r.id, r.ran)) {
      stopping ||= o.until?.() ?? false;
      if (ahead) {
        next = ahead;
        pos++;
        continue;
      }
      if (made < limit && !stopping) sink.end(signal.aborted ? "aborted" : "context-full");
    }
    // Let the step already in flight finish, so its readback buffer is free for the next generation.
    await ahead;
  }
  const msPerToken = made >= 2 ? (lastAt - firstAt) / (made - 1) : undefined;
  return { pos: pos + 1, token: last, tokens: made, msPerToken };
}

/** One decode step in one command buffer, ending with a copy of the chosen id (and `flags` FFN flags) for the CPU. */
async function decodeStep(
  run: DecodeRun,
  step: PreparedStep,
  readback: GPUBuffer,
  flags: number,
): Promise<{ id: number; ran?: boolean[] }> {
  const { device } = run.ctx;
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  step.encode(pass);
  pass.end();
  encoder.copyBufferToBuffer(run.gpu.tokens, 0, readback, 0, 4);
  if (flags > 0) encoder.copyBufferToBuffer(run.buffers.ffnRan, 0, readback, 4, flags * 4);
  device.queue.submit([encoder.finish()]);
  await readback.mapAsync(GPUMapMode.READ);
  const words = new Uint32Array(readback.getMappedRange(0, 4 + flags * 4)).slice();
  readback.unmap();
  return { id: words[0], ran: flags > 0 ? Array.from(words.subarray(1), (w) => w !== 0) : undefined };
}

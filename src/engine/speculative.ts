// Lossless speculative decoding. A round drafts k tokens, then one dense verify step (the prefill path over the k + 1
// tokens at positions p..p+k, causal, with logits and an argmax for every row) checks them; the longest agreeing
// prefix is kept and the verifier adds the next token. Keys and values the verify pass wrote past the kept prefix lie
// beyond the sequence and are overwritten by the next round (positions are fixed), so nothing is rolled back.
//
// Drafters: "ffn-skip" runs k decode steps of the same model under an aggressive FFN-skip policy, chained in the same
// command buffer as the verify pass (each draft's id feeds the next step and is copied aside on the GPU), so a round is
// one submit and one readback; "ngram" proposes what followed the last earlier match of the context's tail (CPU).
// Greedy rounds compare ids on the CPU; sampled rounds read the verifier's logits back and apply speculative sampling
// (speculative-sampling.ts). A repetition penalty changes the logits by a window the verify rows do not share, so with
// one the engine decodes plainly. DraftController picks k, or pauses drafting when it would not pay.
import type { PreparedStep } from "../graph/executor.ts";
import { DRAFT_WORDS } from "./decode-buffers.ts";
import { decodePlain, plainStep, startFfnSkip, type DecodeCursor, type DecodeRun } from "./decode-loop.ts";
import { ngramDraft } from "./ngram-draft.ts";
import { ffnSkipRange, isGreedy, type ResolvedSettings } from "./settings.ts";
import { acceptSampled } from "./speculative-sampling.ts";
import { DraftController } from "./speculation-control.ts";
import type { SpeculativeStats } from "./types.ts";

/** Most plain tokens decoded while prompt lookup waits for a match (it stops as soon as one appears). */
const NGRAM_WAIT = 32;

export function speculationApplies(s: ResolvedSettings): boolean {
  return s.speculative.drafter !== "off" && s.repetitionPenalty === 1;
}

/** One round's outcome: how many drafts were accepted and the tokens to emit (those drafts, then the verifier's). */
interface RoundResult {
  accepted: number;
  tokens: number[];
}

export async function speculate(run: DecodeRun, start: DecodeCursor): Promise<SpeculativeStats> {
  const { gpu, sink, signal, settings: s } = run;
  const drafter = s.speculative.drafter === "ngram" ? "ngram" : "ffn-skip";
  const maxDraft = Math.min(s.speculative.maxDraft, gpu.tokens.size / 4 - 1, DRAFT_WORDS - 1);
  const plain = await plainStep(run);
  const chain = drafter === "ffn-skip" ? await draftChain(run, maxDraft) : undefined;
  const control = new DraftController({
    maxDraft,
    draftCostPrior: drafter === "ffn-skip" ? 0.9 : 0.15,
    adaptive: s.speculative.adaptive,
  });
  const stats = { verifyPasses: 0, drafted: 0, accepted: 0, fromPasses: 0, plainTokens: 0 };
  let at = start;
  while (!sink.ended) {
    if (signal.aborted) sink.end("aborted");
    else if (at.pos >= gpu.capacity) sink.end("context-full");
    if (sink.ended) break;
    let k = Math.min(control.next(), gpu.capacity - 1 - at.pos, s.maxTokens - sink.out.length - 1);
    const drafts = k > 0 && drafter === "ngram" ? ngramDraft([...run.prompt, ...sink.out], k) : undefined;
    if (drafts) k = drafts.length;
    if (k <= 0) {
      const before = sink.out.length;
      // Prompt lookup that found nothing decodes plainly (pipelined) until the context's tail matches again.
      const waitForMatch = drafts !== undefined && !control.pausing;
      const stretch = await decodePlain(run, plain, at, {
        limit: waitForMatch ? NGRAM_WAIT : control.plainStretch(),
        until: waitForMatch ? () => ngramDraft([...run.prompt, ...sink.out], 1).length > 0 : undefined,
      });
      control.recordPlain(stretch.tokens, stretch.msPerToken);
      stats.plainTokens += sink.out.length - before;
      at = stretch;
      continue;
    }
    // Made before the clock starts: a verify step's first use prepares it.
    const verify = await run.step("verify", k + 1);
    const t = performance.now();
    const r = await round(run, at, k, verify, drafts, chain);
    control.recordRound(k, r.accepted, performance.now() - t);
    stats.verifyPasses++;
    stats.drafted += k;
    stats.accepted += r.accepted;
    for (const token of r.tokens) {
      stats.fromPasses++;
      if (!sink.push(token)) break;
    }
    at = { pos: at.pos + r.tokens.length, token: r.tokens[r.tokens.length - 1] };
  }
  return {
    drafter,
    verifyPasses: stats.verifyPasses,
    drafted: stats.drafted,
    accepted: stats.accepted,
    acceptanceRate: stats.drafted ? stats.accepted / stats.drafted : 0,
    tokensPerPass: stats.verifyPasses ? stats.fromPasses / stats.verifyPasses : 0,
    plainTokens: stats.plainTokens,
    breakEvenAcceptance: control.breakEven(),
    msPerPlainToken: control.plainCost(),
    msPerRound: control.measuredRounds(),
  };
}

/** The ffn-skip drafter's decode steps, one per chained position (each keeps its own position uniforms), with the
 *  generation's draft policy written and the skip state cleared. */
async function draftChain(run: DecodeRun, maxDraft: number): Promise<PreparedStep[]> {
  const policy = run.settings.speculative.draftSkip;
  const { first, end } = ffnSkipRange(run.gpu.manifest.config.nLayers, policy);
  const steps: PreparedStep[] = [];
  for (let i = 0; i < maxDraft; i++) {
    steps.push(await run.step("decode", 1, { sampler: "argmax", ffnSkip: { first, end }, copy: i }));
  }
  startFfnSkip(run, steps, policy, 0);
  return steps;
}

/** Drafts (on the GPU through `chain`, or the given ids), verifies, reads back, and decides: one submit. */
async function round(
  run: DecodeRun,
  at: DecodeCursor,
  k: number,
  verify: PreparedStep,
  drafts: number[] | undefined,
  chain: PreparedStep[] | undefined,
): Promise<RoundResult> {
  const { ctx, gpu, buffers, settings: s } = run;
  const { device } = ctx;
  const greedy = isGreedy(s);
  const vocab = gpu.manifest.config.vocabSize;
  const encoder = device.createCommandEncoder();
  const encode = (step: PreparedStep) => {
    const pass = encoder.beginComputePass();
    step.encode(pass);
    pass.end();
  };
  if (drafts) device.queue.writeBuffer(gpu.tokens, 0, new Uint32Array([at.token, ...drafts]));
  else if (chain) {
    device.queue.writeBuffer(gpu.tokens, 0, new Uint32Array([at.token]));
    encoder.copyBufferToBuffer(gpu.tokens, 0, buffers.drafts, 0, 4);
    for (let i = 0; i < k; i++) {
      chain[i].setPosition(at.pos + i);
      encode(chain[i]);
      encoder.copyBufferToBuffer(gpu.tokens, 0, buffers.drafts, 4 * (i + 1), 4);
    }
    encoder.copyBufferToBuffer(buffers.drafts, 0, gpu.tokens, 0, 4 * (k + 1));
  }
  verify.setPosition(at.pos);
  encode(verify);
  const readback = buffers.readbacks[0];
  encoder.copyBufferToBuffer(buffers.verified, 0, readback, 0, 4 * (k + 1));
  if (!drafts) encoder.copyBufferToBuffer(buffers.drafts, 4, readback, 4 * DRAFT_WORDS, 4 * k);
  const logitsBytes = (k + 1) * vocab * 4;
  const logits = greedy ? undefined : buffers.logitsReadback(logitsBytes);
  if (logits) {
    const b = verify.binding("logits");
    encoder.copyBufferToBuffer(b.buffer, b.offset ?? 0, logits, 0, logitsBytes);
  }
  device.queue.submit([encoder.finish()]);
  await Promise.all([readback.mapAsync(GPUMapMode.READ), logits?.mapAsync(GPUMapMode.READ, 0, logitsBytes)]);
  const words = new Uint32Array(readback.getMappedRange()).slice();
  readback.unmap();
  const drafted = drafts ?? Array.from(words.subarray(DRAFT_WORDS, DRAFT_WORDS + k));
  if (logits) {
    const rows = new Float32Array(logits.getMappedRange(0, logitsBytes)).slice();
    logits.unmap();
    return acceptSampled(rows, vocab, drafted, s, at.pos);
  }
  let accepted = 0;
  while (accepted < k && drafted[accepted] === words[accepted]) accepted++;
  return { accepted, tokens: [...drafted.slice(0, accepted), words[accepted]] };
}

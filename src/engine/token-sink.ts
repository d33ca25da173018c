// Where decoded token ids go, whichever loop made them (plain, FFN-skipping or speculative): end-of-sequence and stop
// strings, streamed text, the caller's token events, the per-token FFN map and the stop reason.
import type { Tokenizer } from "../tokenizer/tokenizer.ts";
import { StopMatcher } from "./stop-matcher.ts";
import type { ResolvedSettings } from "./settings.ts";
import type { FfnSkipStats, StopReason, TokenEvent } from "./types.ts";

export class TokenSink {
  readonly out: number[] = [];
  text = "";
  stopReason: StopReason = "max-tokens";
  /** When the first token arrived (performance.now()), 0 before. */
  firstTokenAt = 0;
  /** Steps, counted from the first, that ran every FFN block: the keys and values of their input tokens are dense.
   *  A step is counted when its token arrives (an end-of-sequence token too). */
  denseSteps = 0;
  private ffnRun = 0;
  private ffnSkipped = 0;
  private sawFfnMap = false;
  private readonly decoder: ReturnType<Tokenizer["decoder"]>;
  private readonly stop: StopMatcher;
  private done = false;

  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly settings: ResolvedSettings,
    private readonly signal: AbortSignal,
    private readonly t0: number,
    private readonly onToken?: (t: TokenEvent) => void,
  ) {
    this.decoder = tokenizer.decoder();
    this.stop = new StopMatcher(settings.stop);
  }

  /** Takes the next token (and which FFN blocks its step ran); false when generation ends here. */
  push(id: number, ffnRan?: boolean[]): boolean {
    if (this.done) return false;
    if (this.out.length === 0) this.firstTokenAt = performance.now();
    if (ffnRan) {
      this.sawFfnMap = true;
      const run = ffnRan.filter(Boolean).length;
      this.ffnRun += run;
      this.ffnSkipped += ffnRan.length - run;
      if (run === ffnRan.length && this.denseSteps === this.out.length) this.denseSteps++;
    } else if (this.denseSteps === this.out.length) this.denseSteps++;
    if (this.settings.stopAtEos && this.tokenizer.eotIds.includes(id)) return this.end("eos");
    this.out.push(id);
    const piece = this.stop.push(this.decoder.push(id));
    this.text += piece.text;
    const event: TokenEvent = { id, text: piece.text, index: this.out.length - 1, elapsedMs: this.elapsed() };
    if (ffnRan) event.ffnRan = ffnRan;
    this.onToken?.(event);
    if (piece.stopped) return this.end("stop-string");
    if (this.signal.aborted) return this.end("aborted");
    if (this.out.length >= this.settings.maxTokens) return this.end("max-tokens");
    return true;
  }

  /** True once a token ended the generation. */
  get ended(): boolean {
    return this.done;
  }

  /** Ends the generation for a reason found outside the tokens (a full context, an abort between steps). */
  end(reason: StopReason): false {
    if (!this.done) this.stopReason = reason;
    this.done = true;
    return false;
  }

  /** Flushes held-back text (unless a stop string cut it). */
  finish(): void {
    if (this.stopReason === "stop-string") return;
    const rest = this.stop.flush(this.decoder.flush());
    this.text += rest;
    if (rest) this.onToken?.({ id: -1, text: rest, index: this.out.length, elapsedMs: this.elapsed() });
  }

  ffnStats(): FfnSkipStats | undefined {
    if (!this.sawFfnMap) return undefined;
    const total = this.ffnRun + this.ffnSkipped;
    return { blocksRun: this.ffnRun, blocksSkipped: this.ffnSkipped, skipRatio: total ? this.ffnSkipped / total : 0 };
  }

  private elapsed(): number {
    return performance.now() - this.t0;
  }
}

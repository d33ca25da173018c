// When to draft and how far (speculative decoding): acceptance is tracked as a per-token rate alpha, a verify round's
// cost as a line in the number of drafted tokens, and a plain decode step's cost per token; the draft length chosen
// maximises expected tokens per millisecond, and drafting pauses (with a growing back-off) when even the best length
// would be slower than plain decoding. All costs are this generation's own wall-clock measurements.

/** Expected tokens one round yields when each drafted token is accepted with probability alpha (independently) and
 *  the verifier adds one: 1 + alpha + ... + alpha^k. */
export function expectedTokens(alpha: number, k: number): number {
  let sum = 0;
  let term = 1;
  for (let i = 0; i <= k; i++) {
    sum += term;
    term *= alpha;
  }
  return sum;
}

/** The acceptance rate at which drafting k tokens breaks even: expectedTokens(alpha, k) = roundMs / plainMs. Above 1
 *  when no rate can pay for the round; 0 when any does. */
export function breakEvenAcceptance(k: number, roundMs: number, plainMs: number): number {
  const need = roundMs / plainMs;
  if (need <= 1) return 0;
  if (need > k + 1) return Infinity;
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 50; i++) {
    const mid = (lo + hi) / 2;
    if (expectedTokens(mid, k) < need) lo = mid;
    else hi = mid;
  }
  return hi;
}

export interface ControllerOptions {
  maxDraft: number;
  /** A drafted token's cost relative to a plain decode step before any is measured (ffn-skip: about one step). */
  draftCostPrior: number;
  /** false: always draft maxDraft (after the first plain tokens that measure a step). */
  adaptive?: boolean;
}

const DECAY = 0.9;
const MAX_PAUSE = 64;
const MEASURE_STRETCH = 6;

export class DraftController {
  /** Decayed counts of accepted and rejected drafted tokens, with a prior of one each. */
  private accepted = 1;
  private rejected = 1;
  /** Milliseconds per plain-decoded token (decayed average), once measured. */
  private plainMs?: number;
  /** Decayed average round time per draft length. */
  private readonly roundMs = new Map<number, number>();
  private pause = 0;
  private backoff = MEASURE_STRETCH;
  private probe = false;
  private last = 0;

  constructor(private readonly o: ControllerOptions) {}

  /** Per-token acceptance estimate. */
  get alpha(): number {
    return this.accepted / (this.accepted + this.rejected);
  }

  /** Tokens to draft next; 0 means decode plainly for `plainStretch()` tokens first. */
  next(): number {
    if (this.plainMs === undefined || this.pause > 0) return 0;
    if (this.o.adaptive === false) return (this.last = this.o.maxDraft);
    if (this.probe) {
      this.probe = false;
      return (this.last = Math.min(2, this.o.maxDraft));
    }
    const best = this.best();
    if (best.gain < 1) {
      this.pause = this.backoff;
      this.backoff = Math.min(MAX_PAUSE, this.backoff * 2);
      this.probe = true;
      return 0;
    }
    this.backoff = MEASURE_STRETCH;
    return (this.last = best.k);
  }

  /** True while drafting is paused (or plain decoding not measured yet). */
  get pausing(): boolean {
    return this.plainMs === undefined || this.pause > 0;
  }

  /** Plain tokens to decode before drafting again: MEASURE_STRETCH first (the cost to beat), then at least 2 (one
   *  pipelined behind the other) or what a pause has left. */
  plainStretch(): number {
    return this.plainMs === undefined ? MEASURE_STRETCH : Math.max(2, this.pause);
  }

  /** A plain stretch's tokens and steady pace (ms per token once the pipeline is full: what plain decoding costs).
   *  Only stretches of MEASURE_STRETCH or more set the cost, unless none has yet. */
  recordPlain(tokens: number, msPerToken: number | undefined): void {
    this.pause = Math.max(0, this.pause - tokens);
    if (msPerToken === undefined || (tokens < MEASURE_STRETCH && this.plainMs !== undefined)) return;
    this.plainMs = this.plainMs === undefined ? msPerToken : DECAY * this.plainMs + (1 - DECAY) * msPerToken;
  }

  recordRound(k: number, acceptedCount: number, ms: number): void {
    this.accepted = DECAY * this.accepted + acceptedCount;
    this.rejected = DECAY * this.rejected + (acceptedCount < k ? 1 : 0);
    const before = this.roundMs.get(k);
    this.roundMs.set(k, before === undefined ? ms : 0.7 * before + 0.3 * ms);
  }

  /** Estimated round time at draft length k: the measured lengths' least-squares line, or the prior slope. */
  roundCost(k: number): number {
    const points = [...this.roundMs.entries()];
    const plain = this.plainMs ?? 1;
    if (points.length === 0) return plain * (1 + this.o.draftCostPrior * k);
    if (points.length === 1) {
      const [k0, ms0] = points[0];
      return Math.max(plain * 0.5, ms0 + (k - k0) * this.o.draftCostPrior * plain);
    }
    const n = points.length;
    const mk = points.reduce((s, [x]) => s + x, 0) / n;
    const mm = points.reduce((s, [, y]) => s + y, 0) / n;
    let sxy = 0;
    let sxx = 0;
    for (const [x, y] of points) {
      sxy += (x - mk) * (y - mm);
      sxx += (x - mk) ** 2;
    }
    const slope = Math.max(0, sxy / sxx);
    return Math.max(plain * 0.5, mm + slope * (k - mk));
  }

  /** The draft length with the highest expected speed-up over plain decoding, and that speed-up. */
  best(): { k: number; gain: number } {
    let best = { k: 1, gain: 0 };
    const plain = this.plainMs ?? 1;
    for (let k = 1; k <= this.o.maxDraft; k++) {
      const gain = (expectedTokens(this.alpha, k) * plain) / this.roundCost(k);
      if (gain > best.gain) best = { k, gain };
    }
    return best;
  }

  /** Measured milliseconds per plain-decoded token, once measured. */
  plainCost(): number | undefined {
    return this.plainMs;
  }

  /** Measured milliseconds per round, by draft length. */
  measuredRounds(): Record<number, number> {
    return Object.fromEntries(this.roundMs);
  }

  /** Break-even acceptance of the length drafted last, from the current cost estimates. */
  breakEven(): number | undefined {
    if (this.plainMs === undefined || this.last === 0) return undefined;
    return breakEvenAcceptance(this.last, this.roundCost(this.last), this.plainMs);
  }
}

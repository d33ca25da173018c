// Stop strings over streamed text: holds back just enough text to never emit the start of a stop string.

export class StopMatcher {
  private pending = "";
  private readonly longest: number;
  constructor(private readonly stops: string[]) {
    this.longest = Math.max(0, ...stops.map((s) => s.length));
  }

  /** Adds text; returns what is safe to emit now and whether a stop string was reached. */
  push(text: string): { text: string; stopped: boolean } {
    this.pending += text;
    if (this.stops.length === 0) return this.release(this.pending.length, false);
    let cut = -1;
    for (const s of this.stops) {
      const at = this.pending.indexOf(s);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      const out = this.pending.slice(0, cut);
      this.pending = "";
      return { text: out, stopped: true };
    }
    // Keep the longest suffix that could still grow into a stop string.
    let keep = 0;
    for (let k = Math.min(this.longest - 1, this.pending.length); k > 0; k--) {
      const tail = this.pending.slice(this.pending.length - k);
      if (this.stops.some((s) => s.startsWith(tail))) {
        keep = k;
        break;
      }
    }
    return this.release(this.pending.length - keep, false);
  }

  /** The held-back text at the end of generation (no stop string was completed). */
  flush(text = ""): string {
    const out = this.pending + text;
    this.pending = "";
    return out;
  }

  private release(n: number, stopped: boolean): { text: string; stopped: boolean } {
    const out = this.pending.slice(0, n);
    this.pending = this.pending.slice(n);
    return { text: out, stopped };
  }
}

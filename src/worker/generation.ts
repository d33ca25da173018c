// A generation in flight, seen two ways: an async iterator of tokens (`for await (const t of gen)`) and a
// promise of the final result (`await gen`). Tokens are queued, so a slow reader loses none.
import type { GenerateResult, TokenEvent } from "../engine/engine.ts";

export class Generation implements AsyncIterable<TokenEvent>, PromiseLike<GenerateResult> {
  private readonly queue: TokenEvent[] = [];
  private wake?: () => void;
  private finished = false;
  private failure: unknown;
  /** The final text, ids, stop reason and stats. */
  readonly result: Promise<GenerateResult>;

  /** `start` receives the token sink and returns the engine's promise of the result. */
  constructor(start: (onToken: (t: TokenEvent) => void) => Promise<GenerateResult>) {
    this.result = start((t) => {
      this.queue.push(t);
      this.wake?.();
    }).then(
      (r) => {
        this.close();
        return r;
      },
      (e: unknown) => {
        this.failure = e;
        this.close();
        throw e;
      },
    );
    // The iterator reports failures itself; an unread result must not raise an unhandled rejection.
    this.result.catch(() => undefined);
  }

  then<A = GenerateResult, B = never>(
    onResult?: ((r: GenerateResult) => A | PromiseLike<A>) | null,
    onError?: ((e: unknown) => B | PromiseLike<B>) | null,
  ): PromiseLike<A | B> {
    return this.result.then(onResult, onError);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<TokenEvent> {
    for (;;) {
      const next = this.queue.shift();
      if (next) {
        yield next;
        continue;
      }
      if (this.finished) {
        if (this.failure !== undefined) throw this.failure;
        return;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private close(): void {
    this.finished = true;
    this.wake?.();
  }
}

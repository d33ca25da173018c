// Generation: tokens by async iteration and the result by await, including failures.
import { describe, expect, test } from "vitest";
import { Generation } from "./generation.ts";
import type { GenerateResult, TokenEvent } from "../engine/engine.ts";

const result = (text: string): GenerateResult => ({
  text,
  tokenIds: [1, 2],
  stopReason: "max-tokens",
  stats: {
    promptTokens: 1,
    cachedPromptTokens: 0,
    generatedTokens: 2,
    timeToFirstTokenMs: 1,
    prefillTokensPerSecond: 1,
    decodeTokensPerSecond: 1,
    gpuBytes: 0,
  },
});

describe("generation", () => {
  test("iterates every token, then resolves with the result", async () => {
    const gen = new Generation(async (onToken) => {
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setTimeout(r, 1));
        onToken({ id: i, text: `t${i}`, index: i, elapsedMs: i });
      }
      return result("t0t1t2");
    });
    const seen: TokenEvent[] = [];
    for await (const t of gen) seen.push(t);
    expect(seen.map((t) => t.text).join("")).toBe("t0t1t2");
    expect((await gen).text).toBe("t0t1t2");
  });
  test("a failure reaches both the iterator and the promise", async () => {
    const gen = new Generation(async (onToken) => {
      onToken({ id: 0, text: "a", index: 0, elapsedMs: 0 });
      throw new Error("boom");
    });
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const t of gen) seen.push(t.text);
      })(),
    ).rejects.toThrow("boom");
    expect(seen).toEqual(["a"]);
    await expect(gen.result).rejects.toThrow("boom");
  });
});

// Stop strings across token boundaries.
import { describe, expect, test } from "vitest";
import { StopMatcher } from "./stop-matcher.ts";

function run(stops: string[], pieces: string[]): { emitted: string; stopped: boolean } {
  const m = new StopMatcher(stops);
  let emitted = "";
  for (const p of pieces) {
    const r = m.push(p);
    emitted += r.text;
    if (r.stopped) return { emitted, stopped: true };
  }
  return { emitted: emitted + m.flush(), stopped: false };
}

describe("stop matcher", () => {
  test("stops before a stop string split across pieces and never emits its start", () => {
    const m = new StopMatcher(["\nUser:"]);
    expect(m.push("Hello\nUs")).toEqual({ text: "Hello", stopped: false });
    expect(m.push("er: hi")).toEqual({ text: "", stopped: true });
  });
  test("releases held text when it turns out not to be a stop string", () => {
    expect(run(["END"], ["a E", "N", "d"])).toEqual({ emitted: "a ENd", stopped: false });
  });
  test("the earliest of several stop strings wins", () => {
    expect(run(["cd", "b"], ["abcd"])).toEqual({ emitted: "a", stopped: true });
  });
  test("no stop strings passes everything through", () => {
    expect(run([], ["x", "y"])).toEqual({ emitted: "xy", stopped: false });
  });
});

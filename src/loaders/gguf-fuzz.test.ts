// Seeded fuzzing of the GGUF reader and validation: 10,000 mutated headers each either load or throw a
// SkiffError; no other exception, no hang, and no allocation beyond the file's size.
import { describe, expect, test } from "vitest";
import { readFileSync } from "node:fs";
import { parseGgufHeader } from "./gguf.ts";
import { validateGguf } from "../storage/import-gguf.ts";
import { SkiffError } from "../errors.ts";

const original = new Uint8Array(readFileSync(new URL("../../../shared/models/stories260K-q4_0.gguf", import.meta.url)));
const headerEnd = parseGgufHeader(original, original.byteLength).dataOffset;

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One mutation: flipped bytes, an overwritten (often huge) integer, a truncation, or a splice. */
function mutate(random: () => number): Uint8Array {
  const kind = Math.floor(random() * 4);
  const at = Math.floor(random() * headerEnd);
  if (kind === 2) return original.slice(0, Math.floor(random() * original.byteLength));
  const bytes = original.slice();
  const view = new DataView(bytes.buffer);
  if (kind === 0) {
    for (let i = 0, flips = 1 + Math.floor(random() * 4); i < flips; i++) {
      bytes[Math.floor(random() * headerEnd)] ^= 1 << Math.floor(random() * 8);
    }
  } else if (kind === 1 && at + 8 <= bytes.byteLength) {
    const choices = [0n, 1n, 0xffffffffn, 0xffffffffffffffffn, 1n << 40n, BigInt(Math.floor(random() * 2 ** 32))];
    view.setBigUint64(at, choices[Math.floor(random() * choices.length)], true);
  } else {
    const from = Math.floor(random() * headerEnd);
    bytes.copyWithin(at, from, from + 1 + Math.floor(random() * 64));
  }
  return bytes;
}

describe("gguf fuzz", () => {
  test("10,000 mutated files load or fail with a SkiffError, quickly", () => {
    const seed = Number(process.env.SKIFF_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const random = rng(seed);
    const counts = { loaded: 0, refused: 0 };
    for (let i = 0; i < 10_000; i++) {
      const bytes = mutate(random);
      const started = performance.now();
      try {
        const header = parseGgufHeader(bytes, bytes.byteLength);
        validateGguf(header);
        counts.loaded++;
      } catch (e) {
        if (!(e instanceof SkiffError)) {
          throw new Error(`case ${i} (seed ${seed}) threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
        }
        counts.refused++;
      }
      const ms = performance.now() - started;
      // A parse that allocated by a corrupt count, or looped on one, would take far longer than this.
      expect(ms, `case ${i} (seed ${seed}) took ${ms.toFixed(0)} ms`).toBeLessThan(250);
    }
    console.log(`gguf fuzz (seed ${seed}): ${counts.loaded} loaded, ${counts.refused} refused`);
    expect(counts.refused).toBeGreaterThan(1000);
  });
});

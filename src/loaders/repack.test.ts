// Repacking GGUF bytes into runtime planes: hand-built blocks with known words, round trips, and rejected shapes.
import { describe, expect, test } from "vitest";
import { f32ToF16 } from "./f16.ts";
import { dequantize, quantize, WEIGHT_TYPES } from "./ggml-quants.ts";
import { planeStrides, repack, unpack } from "./repack.ts";
import { SkiffError } from "../errors.ts";

/** One Q4_0 block: f16 d, then 16 bytes whose low nibble is element j and high nibble element j + 16. */
function q4Block(d: number, q: number[]): number[] {
  const h = f32ToF16(d);
  const bytes = [h & 0xff, h >> 8];
  for (let j = 0; j < 16; j++) bytes.push(q[j] | (q[j + 16] << 4));
  return bytes;
}

function q8Block(d: number, q: number[]): number[] {
  const h = f32ToF16(d);
  return [h & 0xff, h >> 8, ...q.map((v) => v & 0xff)];
}

describe("repack", () => {
  test("q4_0: nibbles become 8 consecutive elements per word, scales 2 per word", () => {
    const q = Array.from({ length: 32 }, (_, e) => (e * 7 + 3) % 16);
    const tiny = 3 * 2 ** -24; // subnormal f16 scale
    const bytes = new Uint8Array([
      ...q4Block(1, q),
      ...q4Block(
        -0.5,
        q.map((v) => 15 - v),
      ),
      ...q4Block(tiny, q),
    ]);
    const p = repack("q4_0", bytes, 1, 96);
    expect(p.codes.length).toBe(12);
    for (let w = 0; w < 4; w++) {
      let want = 0;
      for (let i = 0; i < 8; i++) want += q[8 * w + i] * 16 ** i;
      expect(p.codes[w]).toBe(want);
    }
    expect(Array.from(p.scales!)).toEqual([0xb8003c00, f32ToF16(tiny)]);
    expect(f32ToF16(tiny)).toBe(3);
    const values = unpack(p);
    expect(values[0]).toBe(q[0] - 8);
    expect(values[17]).toBe(q[17] - 8);
    expect(values[32 + 5]).toBe((15 - q[5] - 8) * -0.5);
    expect(values[64 + 31]).toBe((q[31] - 8) * tiny);
    expect(Array.from(values)).toEqual(Array.from(dequantize("q4_0", bytes, 96)));
  });

  test("q8_0: int8 codes keep their sign, 4 per word with element 4i in the low byte", () => {
    const q = Array.from({ length: 32 }, (_, e) => [127, -128, -1, 0][e % 4] ^ (e >> 2));
    const bytes = new Uint8Array([...q8Block(2, q), ...q8Block(-65504, q)]);
    const p = repack("q8_0", bytes, 2, 32);
    expect(p.codes.length).toBe(16);
    expect(p.codes[0]).toBe(0x00ff807f);
    expect(Array.from(p.scales!)).toEqual([0x4000, 0xfbff]);
    const values = unpack(p);
    expect(Array.from(values.slice(0, 4))).toEqual([254, -256, -2, 0]);
    expect(values[32 + 1]).toBe(-128 * -65504);
    expect(Array.from(values)).toEqual(Array.from(dequantize("q8_0", bytes, 64)));
  });

  test("f16: halves pair up per row, odd rows padded with zero", () => {
    const halves = [0x3c00, 0xc000, 0x7c00, 0x0001, 0x8000, 0x7bff];
    const bytes = new Uint8Array(new Uint16Array(halves).buffer);
    const p = repack("f16", bytes, 2, 3);
    expect(planeStrides("f16", 3).codeWords).toBe(2);
    expect(Array.from(p.codes)).toEqual([0xc0003c00, 0x7c00, 0x80000001, 0x7bff]);
    expect(Array.from(unpack(p))).toEqual([1, -2, Infinity, 2 ** -24, -0, 65504]);
  });

  test("f32: bits verbatim", () => {
    const x = Float32Array.from([1.5, -0, -3.25e-38, 7]);
    const p = repack("f32", new Uint8Array(x.buffer), 2, 2);
    expect(Array.from(p.codes)).toEqual(Array.from(new Uint32Array(x.buffer)));
    expect(Array.from(unpack(p))).toEqual(Array.from(x));
  });

  for (const type of WEIGHT_TYPES) {
    test(`${type}: random matrices round-trip through the planes`, () => {
      const rows = 5;
      const cols = type === "f32" || type === "f16" ? 33 : 160;
      const x = Float32Array.from({ length: rows * cols }, (_, i) => Math.cos(i * 1.618) * (1 + (i % 7)));
      const bytes = quantize(type, x);
      const p = repack(type, bytes, rows, cols);
      const { codeWords, scaleWords } = planeStrides(type, cols);
      expect(p.codes.length).toBe(rows * codeWords);
      expect(p.scales?.length ?? 0).toBe(rows * scaleWords);
      expect(Array.from(unpack(p))).toEqual(Array.from(dequantize(type, bytes, rows * cols)));
    });
  }

  test("rejects wrong byte lengths and partial blocks, naming the tensor and shape", () => {
    expect(() => repack("q4_0", new Uint8Array(18 * 3 - 1), 1, 96, "blk.0.attn_q.weight")).toThrow(
      /blk\.0\.attn_q\.weight \(q4_0, rows=1, cols=96\): expected 54 bytes of GGUF data, got 53/,
    );
    expect(() => repack("q8_0", new Uint8Array(34), 1, 33)).toThrow(/\(q8_0, rows=1, cols=33\).*multiple of 32/);
    expect(() => repack("f16", new Uint8Array(8), 2, 3)).toThrow(/expected 12 bytes/);
    expect(() => repack("f32", new Uint8Array(0), 0, 4)).toThrow(SkiffError);
  });
});

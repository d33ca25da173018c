// f16 conversion and ggml's reference quantizers on hand-built values, plus bit-exactness against the Q8_0/Q4_0
// stories260K GGUF files (made by ggml's own reference quantizers from the f32 file).
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { f16ToF32, f32ToF16 } from "./f16.ts";
import { dequantize, quantize, quantizeQ4_0, quantizeQ8_0, QK } from "./ggml-quants.ts";
import { parseGgufHeader, type GgufHeader } from "./gguf.ts";

describe("f16", () => {
  const cases: [number, number][] = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [65504, 0x7bff],
    [65519, 0x7bff], // below the midpoint to 65536
    [65520, 0x7c00], // the midpoint ties to the even neighbour 65536 = inf
    [1e9, 0x7c00],
    [-Infinity, 0xfc00],
    [Infinity, 0x7c00],
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [1023 * 2 ** -24, 0x03ff], // largest subnormal
    [2 ** -25, 0x0000], // half the smallest subnormal ties to even (0)
    [Math.fround(2 ** -25 * (1 + 2 ** -23)), 0x0001], // just above the tie
    [1.5 * 2 ** -24, 0x0002], // tie between 1 and 2 -> even 2
    [2.5 * 2 ** -24, 0x0002], // tie between 2 and 3 -> even 2
    [1023.5 * 2 ** -24, 0x0400], // rounds up out of the subnormals into the smallest normal
    [2 ** -40, 0x0000],
    [-(2 ** -40), 0x8000],
    [1 + 2 ** -11, 0x3c00], // tie -> even mantissa 0
    [1 + 3 * 2 ** -11, 0x3c02], // tie -> even mantissa 2
    [1 + 2 ** -11 + 2 ** -20, 0x3c01],
    [2047.5 * 2 ** -11 * 2 ** 15, 0x7800], // mantissa carry bumps the exponent
  ];
  for (const [value, bits] of cases) {
    test(`f32ToF16(${value}) = 0x${bits.toString(16)}`, () => {
      expect(f32ToF16(value)).toBe(bits);
    });
  }

  test("NaN stays NaN (quiet), never inf", () => {
    const h = f32ToF16(NaN);
    expect(h & 0x7c00).toBe(0x7c00);
    expect(h & 0x3ff).not.toBe(0);
    expect(f16ToF32(h)).toBeNaN();
    expect(f16ToF32(0x7c01)).toBeNaN();
  });

  test("every finite f16 pattern round-trips and decodes monotonically", () => {
    // Negative patterns run from -max to -0, then positive from +0 to max: values never decrease.
    const order = [
      ...Array.from({ length: 0x7c00 }, (_, i) => 0xfbff - i),
      ...Array.from({ length: 0x7c00 }, (_, i) => i),
    ];
    let previous = -Infinity;
    const bad: number[] = [];
    for (const h of order) {
      const v = f16ToF32(h);
      if (f32ToF16(v) !== h || v < previous) bad.push(h);
      previous = v;
    }
    expect(bad).toEqual([]);
  });

  test("values between neighbours round to the nearer one", () => {
    for (let h = 1; h < 0x7bff; h += 97) {
      const lo = f16ToF32(h);
      const hi = f16ToF32(h + 1);
      expect(f32ToF16(lo + (hi - lo) * 0.49)).toBe(h);
      expect(f32ToF16(lo + (hi - lo) * 0.51)).toBe(h + 1);
    }
  });
});

function block(fill: (j: number) => number): Float32Array {
  return Float32Array.from({ length: QK }, (_, j) => fill(j));
}

describe("quantizeQ8_0", () => {
  test("d = amax/127 and q = roundf(x/d), halves away from zero", () => {
    const x = block((j) => [127, -127, 0, 2.5, -2.5, 0.5, -0.5, 1.49][j] ?? j - 16);
    const bytes = quantizeQ8_0(x);
    expect(bytes.length).toBe(34);
    const view = new DataView(bytes.buffer);
    expect(view.getUint16(0, true)).toBe(0x3c00); // d = 1
    const q = Array.from({ length: QK }, (_, j) => view.getInt8(2 + j));
    expect(q.slice(0, 8)).toEqual([127, -127, 0, 3, -3, 1, -1, 1]);
    expect(q.slice(8)).toEqual(Array.from({ length: 24 }, (_, i) => i + 8 - 16));
  });

  test("an all-zero block has d = 0 and zero codes", () => {
    const bytes = quantizeQ8_0(new Float32Array(QK));
    expect(Array.from(bytes)).toEqual(new Array(34).fill(0));
  });

  test("a tiny block gets a subnormal f16 scale", () => {
    const d = 16 * 2 ** -24;
    const x = block((j) => (j === 5 ? -127 * d : j * d));
    const bytes = quantizeQ8_0(x);
    const view = new DataView(bytes.buffer);
    expect(view.getUint16(0, true)).toBe(0x0010);
    expect(view.getInt8(2 + 5)).toBe(-127);
    expect(view.getInt8(2 + 31)).toBe(31);
    const back = dequantize("q8_0", bytes, QK);
    expect(back[5]).toBe(-127 * d);
    expect(back[31]).toBe(31 * d);
  });
});

describe("quantizeQ4_0", () => {
  test("d = max/-8 with a negative extreme; low nibbles hold 0..15, high nibbles 16..31", () => {
    // max = -8 (largest magnitude, negative) -> d = 1, q = x + 8.
    const x = block((j) => (j === 0 ? -8 : j === 16 ? 7 : (j % 15) - 7));
    const bytes = quantizeQ4_0(x);
    expect(bytes.length).toBe(18);
    expect(new DataView(bytes.buffer).getUint16(0, true)).toBe(0x3c00);
    for (let j = 0; j < 16; j++) {
      expect(bytes[2 + j] & 0xf).toBe(x[j] + 8);
      expect(bytes[2 + j] >> 4).toBe(x[j + 16] + 8);
    }
    expect(Array.from(dequantize("q4_0", bytes, QK))).toEqual(Array.from(x));
  });

  test("a positive extreme maps to code 0 and the opposite extreme clips at 15", () => {
    const x = block((j) => (j === 3 ? 8 : j === 4 ? -8 : 0));
    const bytes = quantizeQ4_0(x);
    expect(new DataView(bytes.buffer).getUint16(0, true)).toBe(0xbc00); // d = -1
    expect(bytes[2 + 3] & 0xf).toBe(0); // 8 * -1 + 8.5 -> 0 -> (0 - 8) * -1 = 8
    expect(bytes[2 + 4] & 0xf).toBe(15); // -8 * -1 + 8.5 = 16.5 -> 16 -> clipped to 15 -> -7
    const back = dequantize("q4_0", bytes, QK);
    expect(back[3]).toBe(8);
    expect(back[4]).toBe(-7);
    expect(back[0]).toBe(-0); // (8 - 8) * -1
  });

  test("an all-zero block has d = -0 (0 / -8) and codes 8", () => {
    const bytes = quantizeQ4_0(new Float32Array(QK));
    expect(Array.from(bytes.slice(0, 2))).toEqual([0x00, 0x80]);
    expect(Array.from(bytes.slice(2))).toEqual(new Array(16).fill(0x88));
  });
});

describe("quantize/dequantize", () => {
  test("random blocks dequantize within half a step (plus the f16 rounding of d)", () => {
    const x = Float32Array.from({ length: QK * 64 }, (_, i) => Math.sin(i * 12.9898) * 3);
    for (const [type, steps] of [
      ["q8_0", 127],
      ["q4_0", 8],
    ] as const) {
      const back = dequantize(type, quantize(type, x), x.length);
      for (let b = 0; b < 64; b++) {
        let amax = 0;
        for (let j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(x[b * QK + j]));
        // Q4_0 can clip the element opposite the extreme by one whole step; d's f16 rounding adds up to
        // steps * 2^-11 of a step.
        const bound = (amax / steps) * ((type === "q4_0" ? 1 : 0.5) + steps * 2 ** -11);
        for (let j = 0; j < QK; j++) expect(Math.abs(back[b * QK + j] - x[b * QK + j])).toBeLessThanOrEqual(bound);
      }
    }
  });

  test("f16 and f32 store values as rounded floats", () => {
    const x = Float32Array.from([1, -2.5, 1 / 3, 65519, 1e-6]);
    expect(Array.from(dequantize("f32", quantize("f32", x), x.length))).toEqual(Array.from(x));
    expect(Array.from(dequantize("f16", quantize("f16", x), x.length))).toEqual(
      Array.from(x, (v) => f16ToF32(f32ToF16(v))),
    );
  });

  test("block types reject a partial block", () => {
    expect(() => quantizeQ4_0(new Float32Array(33))).toThrow(/33 elements/);
  });
});

const MODELS = new URL("../../../shared/models/", import.meta.url);

function loadGguf(name: string): { bytes: Uint8Array; header: GgufHeader } {
  const bytes = new Uint8Array(readFileSync(new URL(name, MODELS)));
  return { bytes, header: parseGgufHeader(bytes, bytes.length) };
}

describe("bit-exact against stories260K GGUF files", () => {
  const f32 = loadGguf("stories260K-f32.gguf");
  for (const [file, type] of [
    ["stories260K-q8_0.gguf", "q8_0"],
    ["stories260K-q4_0.gguf", "q4_0"],
    ["stories260K-f16.gguf", "f16"],
  ] as const) {
    test(`${type} tensors equal our quantizer's bytes`, () => {
      const q = loadGguf(file);
      let checked = 0;
      for (const t of q.header.tensors) {
        const src = f32.header.tensors.find((s) => s.name === t.name)!;
        if (t.type === src.type) continue; // f32 norms and the f32 ffn_down
        const count = t.dims.reduce((a, b) => a * b, 1);
        const values = new Float32Array(f32.bytes.slice(src.offset, src.offset + count * 4).buffer);
        const want = q.bytes.subarray(t.offset, t.offset + t.byteSize);
        expect(quantize(type, values), t.name).toEqual(want);
        checked++;
      }
      expect(checked).toBeGreaterThan(5);
    });
  }
});

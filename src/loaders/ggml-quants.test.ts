// f16 conversion, ggml's reference quantizers and the legacy dequantizers (Q4_1, Q5_0, Q5_1) on hand-built values,
// plus bit-exactness against the Q8_0/Q4_0 stories260K GGUF files (made by ggml's own reference quantizers from the
// f32 file).
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { f16ToF32, f32ToF16 } from "./f16.ts";
import {
  BLOCK_GEOMETRY,
  dequantize,
  ggufBytes,
  quantize,
  quantizeLegacy,
  quantizeQ4_0,
  quantizeQ8_0,
  QK,
  WEIGHT_TYPES,
} from "./ggml-quants.ts";
import { parseGgufHeader, type GgufHeader } from "./gguf.ts";
import { ggmlType, runnableTypeNames, WEIGHT_TYPE_IDS, weightTypeOf } from "./ggml-types.ts";

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

function half(value: number): number[] {
  const h = f32ToF16(value);
  return [h & 0xff, h >> 8];
}

/** Legacy block bytes for codes q[0..31]: d, then m (the _1 types), qh (Q5: bit j = fifth bit of element j), qs
 *  (byte j = element j in the low nibble, element j + 16 in the high nibble). */
function legacyBlock(d: number, m: number | undefined, five: boolean, q: number[]): number[] {
  let qh = 0;
  for (let j = 0; j < QK; j++) qh += ((q[j] >> 4) & 1) * 2 ** j;
  const qs = Array.from({ length: 16 }, (_, j) => (q[j] & 0xf) | ((q[j + 16] & 0xf) << 4));
  const qhBytes = [qh & 0xff, (qh >>> 8) & 0xff, (qh >>> 16) & 0xff, qh >>> 24];
  return [...half(d), ...(m === undefined ? [] : half(m)), ...(five ? qhBytes : []), ...qs];
}

describe("legacy dequantizers on hand-built blocks", () => {
  const q5 = Array.from({ length: QK }, (_, j) => (j * 13 + 5) % 32);
  const q4 = q5.map((v) => v & 0xf);

  test("q4_1: q * d + m, low nibbles 0..15 and high nibbles 16..31", () => {
    const bytes = new Uint8Array([...legacyBlock(0.5, -3, false, q4), ...legacyBlock(-2, 0.25, false, q4)]);
    expect(bytes.length).toBe(ggufBytes("q4_1", 64));
    const got = dequantize("q4_1", bytes, 64);
    for (let j = 0; j < QK; j++) {
      expect(got[j]).toBe(q4[j] * 0.5 - 3);
      expect(got[QK + j]).toBe(q4[j] * -2 + 0.25);
    }
    expect(Math.min(...q4)).toBe(0);
    expect(Math.max(...q4)).toBe(15);
  });

  test("q5_0: (q - 16) * d with the fifth bit of element j in bit j of qh", () => {
    const bytes = new Uint8Array([...legacyBlock(0.25, undefined, true, q5), ...legacyBlock(-1, undefined, true, q5)]);
    expect(bytes.length).toBe(ggufBytes("q5_0", 64));
    const got = dequantize("q5_0", bytes, 64);
    for (let j = 0; j < QK; j++) {
      expect(got[j]).toBe((q5[j] - 16) * 0.25);
      expect(got[QK + j]).toBe((q5[j] - 16) * -1);
    }
    expect(got[q5.indexOf(0)]).toBe(-4);
    expect(got[q5.indexOf(31)]).toBe(3.75);
    expect(Object.is(got[QK + q5.indexOf(16)], -0)).toBe(true); // 0 * -1, as ggml gives it
  });

  test("q5_0: qh bits 16..31 belong to the high nibbles", () => {
    const q = new Array<number>(QK).fill(0);
    q[16] = 16; // only qh bit 16
    q[31] = 31; // qh bit 31 and the high nibble of qs[15]
    const bytes = new Uint8Array(legacyBlock(1, undefined, true, q));
    expect(Array.from(bytes.slice(2, 6))).toEqual([0, 0, 0x01, 0x80]);
    const got = dequantize("q5_0", bytes, QK);
    expect(got[16]).toBe(0);
    expect(got[31]).toBe(15);
    expect(got[0]).toBe(-16);
  });

  test("q5_1: q * d + m, rounded once to f32", () => {
    const d = 1 + 2 ** -10;
    const m = -(2 ** -20);
    const bytes = new Uint8Array(legacyBlock(d, m, true, q5));
    const got = dequantize("q5_1", bytes, QK);
    for (let j = 0; j < QK; j++) expect(got[j]).toBe(Math.fround(q5[j] * d + m));
    expect(got[q5.indexOf(31)]).not.toBe(31 * d + m); // the exact value needs more than 24 bits
  });
});

describe("legacy quantizers", () => {
  test("q4_1: d = (max - min)/15, m = min, q = trunc((x - min)/d + 0.5)", () => {
    const x = block((j) => (j % 16) - 1);
    const bytes = quantizeLegacy("q4_1", x);
    expect(Array.from(bytes.slice(0, 4))).toEqual([0x00, 0x3c, 0x00, 0xbc]); // d = 1, m = -1
    for (let j = 0; j < 16; j++) expect(bytes[4 + j]).toBe(j | (j << 4));
    expect(Array.from(dequantize("q4_1", bytes, QK))).toEqual(Array.from(x));
  });

  test("q5_0: d = max/-16, q = min(31, trunc(x/d + 16.5)), fifth bits in qh", () => {
    const x = block((j) => j - 16); // max magnitude -16 -> d = 1, q = j
    const bytes = quantizeLegacy("q5_0", x);
    expect(Array.from(bytes.slice(0, 6))).toEqual([0x00, 0x3c, 0x00, 0x00, 0xff, 0xff]);
    for (let j = 0; j < 16; j++) expect(bytes[6 + j]).toBe(j | (j << 4));
    expect(Array.from(dequantize("q5_0", bytes, QK))).toEqual(Array.from(x));
  });

  test("q5_0: a positive extreme maps to code 0 and the opposite extreme clips at 31", () => {
    const x = block((j) => (j === 2 ? 16 : j === 3 ? -16 : 0));
    const back = dequantize("q5_0", quantizeLegacy("q5_0", x), QK);
    expect(back[2]).toBe(16); // d = -1, (0 - 16) * -1
    expect(back[3]).toBe(-15); // 16 + 16.5 -> 32 -> clipped to 31
  });

  test("q5_1: d = (max - min)/31, m = min", () => {
    const x = block((j) => 1 + j * 0.5);
    const bytes = quantizeLegacy("q5_1", x);
    expect(Array.from(bytes.slice(0, 8))).toEqual([0x00, 0x38, 0x00, 0x3c, 0x00, 0x00, 0xff, 0xff]);
    expect(Array.from(dequantize("q5_1", bytes, QK))).toEqual(Array.from(x));
  });

  test("all-zero blocks have zero codes", () => {
    expect(Array.from(quantizeLegacy("q4_1", new Float32Array(QK)))).toEqual(new Array(20).fill(0));
    expect(Array.from(quantizeLegacy("q5_1", new Float32Array(QK)))).toEqual(new Array(24).fill(0));
  });
});

describe("quantize/dequantize", () => {
  test("random blocks dequantize within half a step (plus the f16 rounding of d)", () => {
    const x = Float32Array.from({ length: QK * 64 }, (_, i) => Math.sin(i * 12.9898) * 3);
    for (const [type, steps] of [
      ["q8_0", 127],
      ["q4_0", 8],
      ["q5_0", 16],
    ] as const) {
      const back = dequantize(type, quantize(type, x), x.length);
      for (let b = 0; b < 64; b++) {
        let amax = 0;
        for (let j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(x[b * QK + j]));
        // Q4_0 and Q5_0 can clip the element opposite the extreme by one whole step; d's f16 rounding adds up to
        // steps * 2^-11 of a step.
        const bound = (amax / steps) * ((type === "q8_0" ? 0.5 : 1) + steps * 2 ** -11);
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

  test("asymmetric types dequantize within half a step (plus the f16 rounding of d and m)", () => {
    const x = Float32Array.from({ length: QK * 64 }, (_, i) => Math.sin(i * 12.9898) * 3 + 1);
    for (const [type, steps] of [
      ["q4_1", 15],
      ["q5_1", 31],
    ] as const) {
      const back = dequantize(type, quantize(type, x), x.length);
      for (let b = 0; b < 64; b++) {
        const v = x.subarray(b * QK, (b + 1) * QK);
        const min = Math.min(...v);
        const d = (Math.max(...v) - min) / steps;
        const bound = d * (0.5 + steps * 2 ** -11) + Math.abs(min) * 2 ** -11 + 1e-6;
        for (let j = 0; j < QK; j++) expect(Math.abs(back[b * QK + j] - v[j])).toBeLessThanOrEqual(bound);
      }
    }
  });

  test("block types reject a partial block", () => {
    expect(() => quantizeQ4_0(new Float32Array(33))).toThrow(/33 elements/);
    expect(() => quantize("q5_1", new Float32Array(40))).toThrow(/40 elements/);
    expect(() => quantize("q4_k", new Float32Array(300))).toThrow(/300 values/);
  });
});

describe("runnable types", () => {
  test("every weight type maps to its ggml id and back, with ggml's block geometry", () => {
    for (const type of WEIGHT_TYPES) {
      const id = WEIGHT_TYPE_IDS[type];
      expect(weightTypeOf(id)).toBe(type);
      expect(ggmlType(id)?.name.toLowerCase()).toBe(type);
      expect([ggmlType(id)?.blockSize, ggmlType(id)?.typeSize]).toEqual([
        BLOCK_GEOMETRY[type].elements,
        BLOCK_GEOMETRY[type].bytes,
      ]);
    }
    expect(runnableTypeNames()).toBe("F32, F16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K");
  });

  test("types without kernels (Q2_K, Q3_K, IQ2_XXS, Q8_1, BF16) have no weight type", () => {
    for (const id of [10, 11, 16, 9, 30]) expect(weightTypeOf(id), ggmlType(id)?.name).toBeUndefined();
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

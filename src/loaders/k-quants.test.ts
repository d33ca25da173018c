// K-quant dequantizers (Q4_K, Q5_K, Q6_K) on hand-built super-blocks: every 6-bit scale/min packing case, signs,
// extreme codes, Q5_K's fifth bit and Q6_K's signed scales and -32 offset. Blocks are packed here from the byte
// layouts in ggml-common.h and expected values come from the formulas, never from the code under test.
import { describe, expect, test } from "vitest";
import { f16ToF32, f32ToF16 } from "./f16.ts";
import { dequantize, ggufBytes } from "./ggml-quants.ts";
import { randomKQuantBytes, scaleMinK4 } from "./k-quants.ts";
import { SkiffError } from "../errors.ts";

function halfBytes(value: number): number[] {
  const h = f32ToF16(value);
  expect(f16ToF32(h)).toBe(value); // the test's d and dmin are exact f16
  return [h & 0xff, h >> 8];
}

/** The 12 scale bytes of Q4_K/Q5_K for 6-bit scales sc[0..7] and mins m[0..7]. */
function packScales(sc: number[], m: number[]): number[] {
  const q = new Array<number>(12).fill(0);
  for (let j = 0; j < 4; j++) {
    q[j] = sc[j] | ((sc[j + 4] >> 4) << 6);
    q[j + 4] = m[j] | ((m[j + 4] >> 4) << 6);
    q[j + 8] = (sc[j + 4] & 0xf) | ((m[j + 4] & 0xf) << 4);
  }
  return q;
}

/** A Q4_K (bits 4) or Q5_K (bits 5) super-block of codes q[0..255]. */
function kBlock(bits: 4 | 5, d: number, dmin: number, sc: number[], m: number[], q: number[]): number[] {
  const qs = new Array<number>(128).fill(0);
  const qh = new Array<number>(32).fill(0);
  for (let c = 0; c < 4; c++) {
    for (let l = 0; l < 32; l++) {
      qs[32 * c + l] = (q[64 * c + l] & 0xf) | ((q[64 * c + 32 + l] & 0xf) << 4);
      // Fifth bits: u1 = 1 << 2c for the low-nibble half, u2 = 2 << 2c for the high one.
      qh[l] |= ((q[64 * c + l] >> 4) << (2 * c)) | ((q[64 * c + 32 + l] >> 4) << (2 * c + 1));
    }
  }
  return [...halfBytes(d), ...halfBytes(dmin), ...packScales(sc, m), ...(bits === 5 ? qh : []), ...qs];
}

/** A Q6_K super-block of 6-bit codes q[0..255] with int8 scales sc[0..15]. */
function q6Block(d: number, sc: number[], q: number[]): number[] {
  const ql = new Array<number>(128).fill(0);
  const qh = new Array<number>(64).fill(0);
  for (let n = 0; n < 2; n++) {
    for (let l = 0; l < 32; l++) {
      const [a, b, c, e] = [0, 32, 64, 96].map((k) => q[128 * n + l + k]);
      ql[64 * n + l] = (a & 0xf) | ((c & 0xf) << 4);
      ql[64 * n + l + 32] = (b & 0xf) | ((e & 0xf) << 4);
      qh[32 * n + l] = (a >> 4) | ((b >> 4) << 2) | ((c >> 4) << 4) | ((e >> 4) << 6);
    }
  }
  return [...ql, ...qh, ...sc.map((s) => s & 0xff), ...halfBytes(d)];
}

const SC = [63, 0, 21, 42, 63, 1, 48, 17];
const MIN = [0, 63, 33, 5, 62, 32, 15, 63];

describe("get_scale_min_k4", () => {
  test("every sub-block's 6-bit scale and min round-trips through the 12-byte packing", () => {
    const q = new Uint8Array(packScales(SC, MIN));
    for (let j = 0; j < 8; j++) expect(scaleMinK4(j, q, 0), `sub-block ${j}`).toEqual([SC[j], MIN[j]]);
  });

  test("sub-blocks 0..3 read the low 6 bits of bytes j and j+4", () => {
    const q = new Uint8Array([0xc1, 0x3f, 0x80, 0x00, 0x82, 0x40, 0x3f, 0xff, 0, 0, 0, 0]);
    expect(scaleMinK4(0, q, 0)).toEqual([1, 2]);
    expect(scaleMinK4(1, q, 0)).toEqual([63, 0]);
    expect(scaleMinK4(2, q, 0)).toEqual([0, 63]);
    expect(scaleMinK4(3, q, 0)).toEqual([0, 63]);
  });

  test("sub-blocks 4..7 take nibbles of bytes j+4 and the top bits of bytes j-4 and j", () => {
    // byte 0 top bits 3 and byte 4 top bits 2, byte 8 = 0x5a: scale 4 = 0xa | 3 << 4, min 4 = 5 | 2 << 4.
    const q = new Uint8Array([0xc1, 0, 0, 0x40, 0x82, 0, 0, 0xc0, 0x5a, 0, 0, 0xf0]);
    expect(scaleMinK4(4, q, 0)).toEqual([58, 37]);
    expect(scaleMinK4(5, q, 0)).toEqual([0, 0]);
    expect(scaleMinK4(7, q, 0)).toEqual([16, 15 | 48]);
  });

  test("an offset into a larger buffer", () => {
    const q = new Uint8Array([9, 9, 9, ...packScales(SC, MIN)]);
    expect(scaleMinK4(6, q, 3)).toEqual([SC[6], MIN[6]]);
  });
});

describe("dequantize K-quants", () => {
  const codes = (max: number) => Array.from({ length: 256 }, (_, e) => (e * 7 + (e >> 5)) % (max + 1));

  for (const [bits, type] of [
    [4, "q4_k"],
    [5, "q5_k"],
  ] as const) {
    test(`${type}: d * scale * q - dmin * min per 32-element sub-block, both signs, q from 0 to ${2 ** bits - 1}`, () => {
      const q = codes(2 ** bits - 1);
      expect(Math.min(...q)).toBe(0);
      expect(Math.max(...q)).toBe(2 ** bits - 1);
      const blocks = [
        { d: 0.5, dmin: 0.25, sc: SC, m: MIN },
        { d: -2, dmin: -0.125, sc: MIN, m: SC }, // negative d and dmin flip both terms
      ];
      const bytes = new Uint8Array(blocks.flatMap((b) => kBlock(bits, b.d, b.dmin, b.sc, b.m, q)));
      expect(bytes.length).toBe(ggufBytes(type, 512));
      const got = dequantize(type, bytes, 512);
      blocks.forEach((b, i) => {
        for (let e = 0; e < 256; e++) {
          const j = e >> 5;
          expect(got[256 * i + e], `block ${i} element ${e}`).toBe(b.d * b.sc[j] * q[e] - b.dmin * b.m[j]);
        }
      });
      // Spot values: element 0 of sub-block 0 (q = 0, min 0) and the top of sub-block 1.
      expect(got[0]).toBe(0);
      expect(got[32 + 31]).toBe(0.5 * 0 * q[63] - 0.25 * 63);
    });
  }

  test("q5_k: the fifth bit of element l of sub-block j is bit j of qh[l]", () => {
    const q = new Array<number>(256).fill(0);
    q[2 * 32 + 5] = 16; // sub-block 2, element 5: only qh[5] bit 2
    q[7 * 32 + 31] = 31; // sub-block 7, element 31: qh[31] bit 7 and nibble 15
    const bytes = new Uint8Array(kBlock(5, 1, 0, [1, 1, 1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0, 0, 0], q));
    expect(bytes[16 + 5]).toBe(1 << 2);
    expect(bytes[16 + 31]).toBe(1 << 7);
    const got = dequantize("q5_k", bytes, 256);
    expect(got[2 * 32 + 5]).toBe(16);
    expect(got[7 * 32 + 31]).toBe(31);
    expect(got.reduce((s, v) => s + v, 0)).toBe(47);
  });

  test("q6_k: d * int8 scale * (q - 32) per 16 elements, scales from -128 to 127, q from 0 to 63", () => {
    const q = codes(63);
    const sc = [1, -1, 127, -128, 0, 5, -7, 64, -64, 3, 2, -2, 100, -100, 31, -32];
    const d = -0.0625;
    const reversed = [...sc].reverse();
    const bytes = new Uint8Array([...q6Block(d, sc, q), ...q6Block(2, reversed, q)]);
    expect(bytes.length).toBe(ggufBytes("q6_k", 512));
    const got = dequantize("q6_k", bytes, 512);
    for (let e = 0; e < 256; e++) {
      expect(got[e], `element ${e}`).toBe(d * sc[e >> 4] * (q[e] - 32));
      expect(got[256 + e], `block 1 element ${e}`).toBe(2 * reversed[e >> 4] * (q[e] - 32));
    }
  });

  test("q6_k: q = 0 gives -32 steps, q = 63 gives +31, q = 32 gives 0, in each quarter of each half", () => {
    for (const e of [0, 40, 70, 100, 128, 170, 200, 255]) {
      for (const [code, steps] of [
        [0, -32],
        [63, 31],
        [32, 0],
      ]) {
        const q = new Array<number>(256).fill(32);
        q[e] = code;
        const sc = new Array<number>(16).fill(0);
        sc[e >> 4] = -3;
        const got = dequantize("q6_k", new Uint8Array(q6Block(0.5, sc, q)), 256);
        expect(got[e], `element ${e} code ${code}`).toBe(0.5 * -3 * steps);
      }
    }
  });

  test("values are f32: one rounding of the exact d * scale * q - dmin * min", () => {
    const d = 1 + 2 ** -10; // 11 significant bits
    const dmin = 2 ** -20; // an f16 subnormal
    const q = new Array<number>(256).fill(15);
    const bytes = new Uint8Array(kBlock(4, d, dmin, [63, 63, 63, 63, 63, 63, 63, 63], [1, 1, 1, 1, 1, 1, 1, 1], q));
    const got = dequantize("q4_k", bytes, 256);
    expect(got[0]).toBe(Math.fround(d * 63 * 15 - dmin));
    expect(got[0]).not.toBe(d * 63 * 15 - dmin); // the exact value needs more than 24 bits
  });

  test("a row that is not a whole number of 256-element super-blocks is refused", () => {
    expect(() => ggufBytes("q4_k", 4160)).toThrow(/q4_k: 4160 elements is not a whole number of 256-element blocks/);
    expect(() => dequantize("q6_k", new Uint8Array(210), 128)).toThrow(SkiffError);
  });

  test("random blocks are finite and sized by scale", () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (const type of ["q4_k", "q5_k", "q6_k"] as const) {
      const values = dequantize(type, randomKQuantBytes(type, 2560, random, 0.5), 2560);
      const amax = values.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
      expect(values.every(Number.isFinite), type).toBe(true);
      expect(amax, type).toBeLessThanOrEqual(1);
      expect(amax, type).toBeGreaterThan(0.05);
    }
  });
});

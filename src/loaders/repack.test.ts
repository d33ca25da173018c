// Repacking GGUF bytes into runtime planes: hand-built blocks with known words, round trips of every type, and
// rejected shapes.
import { describe, expect, test } from "vitest";
import { f32ToF16 } from "./f16.ts";
import { dequantize, hasQuantizer, quantize, WEIGHT_TYPES, type WeightType } from "./ggml-quants.ts";
import { isKQuant, randomKQuantBytes } from "./k-quants.ts";
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

/** GGUF bytes of `count` elements: quantized floats, or random valid blocks for types without a quantizer. */
function randomBytes(type: WeightType, count: number): Uint8Array {
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  if (!hasQuantizer(type) && isKQuant(type)) return randomKQuantBytes(type, count, random);
  return quantize(
    type,
    Float32Array.from({ length: count }, (_, i) => Math.cos(i * 1.618) * (1 + (i % 7))),
  );
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

  test("q5_0: fifth bits follow the nibble words, one word per block, rows padded to whole vec4", () => {
    // Block b has codes (e + b) % 32: element 31 - b is the one with code 31.
    const blocks = [0, 1, 2, 3, 4].map((b) => {
      const q = Array.from({ length: 32 }, (_, e) => (e + b) % 32);
      let qh = 0;
      for (let e = 0; e < 32; e++) qh += (q[e] >> 4) * 2 ** e;
      const h = f32ToF16(b + 1);
      return [
        h & 0xff,
        h >> 8,
        qh & 0xff,
        (qh >>> 8) & 0xff,
        (qh >>> 16) & 0xff,
        qh >>> 24,
        ...q4Block(
          0,
          q.map((v) => v & 0xf),
        ).slice(2),
      ];
    });
    const bytes = new Uint8Array(blocks.flat());
    const p = repack("q5_0", bytes, 1, 160);
    expect(planeStrides("q5_0", 160).codeWords).toBe(4 * 5 + 8);
    expect(p.codes.length).toBe(28);
    for (let b = 0; b < 5; b++) {
      let want = 0;
      for (let e = 0; e < 32; e++) want += (((e + b) % 32) >> 4) * 2 ** e;
      expect(p.codes[20 + b]).toBe(want >>> 0);
      expect(p.codes[4 * b] & 0xf).toBe(b); // element 0 of block b, low nibble
    }
    expect(Array.from(p.codes.slice(25))).toEqual([0, 0, 0]);
    expect(Array.from(unpack(p))).toEqual(Array.from(dequantize("q5_0", bytes, 160)));
  });

  test("q4_k: scales keep the super-block's first 16 bytes as words; codes become nibble words per sub-block", () => {
    const bytes = new Uint8Array(144);
    for (let i = 0; i < 144; i++) bytes[i] = (i * 37 + 11) & 0xff;
    const p = repack("q4_k", bytes, 1, 256);
    const view = new DataView(bytes.buffer);
    expect(Array.from(p.scales!)).toEqual([0, 4, 8, 12].map((o) => view.getUint32(o, true)));
    // Sub-block 3 = the high nibbles of qs[32..63]; its word 1 holds elements 8..15.
    let want = 0;
    for (let i = 0; i < 8; i++) want += (bytes[16 + 32 + 8 + i] >> 4) * 16 ** i;
    expect(p.codes[4 * 3 + 1]).toBe(want);
    expect(Array.from(unpack(p))).toEqual(Array.from(dequantize("q4_k", bytes, 256)));
  });

  test("q6_k: two words of 2-bit highs per block after the nibble words; int8 scales, then d two per word", () => {
    const bytes = new Uint8Array(210 * 3);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 53 + 7) & 0xff;
    for (const [g, d] of [0x3c00, 0xb800, 0x0001].entries()) {
      bytes[210 * g + 208] = d & 0xff;
      bytes[210 * g + 209] = d >> 8;
    }
    const p = repack("q6_k", bytes, 1, 768);
    const { codeWords, scaleWords } = planeStrides("q6_k", 768);
    expect([codeWords, scaleWords]).toEqual([6 * 24, 4 * 3 + 2]);
    const view = new DataView(bytes.buffer);
    expect(p.scales![4]).toBe(view.getUint32(210 + 192, true));
    expect(Array.from(p.scales!.slice(12))).toEqual([0xb8003c00, 0x0001]);
    // Block 1 (elements 32..63 of the first super-block): its highs are bits 2-3 of qh[0..31].
    let lowHalf = 0;
    for (let e = 0; e < 16; e++) lowHalf += ((bytes[128 + e] >> 2) & 3) * 4 ** e;
    expect(p.codes[4 * 24 + 2]).toBe(lowHalf);
    expect(Array.from(unpack(p))).toEqual(Array.from(dequantize("q6_k", bytes, 768)));
  });

  for (const type of WEIGHT_TYPES) {
    test(`${type}: random matrices round-trip through the planes`, () => {
      const rows = 5;
      const cols = type === "f32" || type === "f16" ? 33 : isKQuant(type) ? 768 : 160;
      const bytes = randomBytes(type, rows * cols);
      const p = repack(type, bytes, rows, cols);
      const { codeWords, scaleWords } = planeStrides(type, cols);
      expect(p.codes.length).toBe(rows * codeWords);
      expect(p.scales?.length ?? 0).toBe(rows * scaleWords);
      expect(Array.from(unpack(p))).toEqual(Array.from(dequantize(type, bytes, rows * cols)));
    });
  }

  test("planes take GGUF's bits per weight (rows of 4096)", () => {
    const bits = (type: WeightType) => {
      const { codeWords, scaleWords } = planeStrides(type, 4096);
      return ((codeWords + scaleWords) * 32) / 4096;
    };
    expect(WEIGHT_TYPES.map((t) => [t, bits(t)])).toEqual([
      ["f32", 32],
      ["f16", 16],
      ["q8_0", 8.5],
      ["q4_0", 4.5],
      ["q4_1", 5],
      ["q5_0", 5.5],
      ["q5_1", 6],
      ["q4_k", 4.5],
      ["q5_k", 5.5],
      ["q6_k", 6.5625],
    ]);
  });

  test("rejects wrong byte lengths and partial blocks, naming the tensor and shape", () => {
    expect(() => repack("q4_0", new Uint8Array(18 * 3 - 1), 1, 96, "blk.0.attn_q.weight")).toThrow(
      /blk\.0\.attn_q\.weight \(q4_0, rows=1, cols=96\): expected 54 bytes of GGUF data, got 53/,
    );
    expect(() => repack("q8_0", new Uint8Array(34), 1, 33)).toThrow(/\(q8_0, rows=1, cols=33\).*multiple of 32/);
    expect(() => repack("q4_k", new Uint8Array(144 * 17), 17, 224, "output.weight")).toThrow(
      /tensor output\.weight \(q4_k, rows=17, cols=224\): cols must be a multiple of 256/,
    );
    expect(() => repack("q6_k", new Uint8Array(209), 1, 256)).toThrow(/expected 210 bytes of GGUF data, got 209/);
    expect(() => repack("f16", new Uint8Array(8), 2, 3)).toThrow(/expected 12 bytes/);
    expect(() => repack("f32", new Uint8Array(0), 0, 4)).toThrow(SkiffError);
  });
});

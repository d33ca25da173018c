// N:M sparsity: pattern parsing, detection, compression to the runtime planes and back, against dense values built
// by hand or with ggml's quantizers (zeros written out).
import { describe, expect, test } from "vitest";
import {
  compressNM,
  compressPackedNM,
  decompressNM,
  detectNM,
  detectPackedNM,
  expandNM,
  NM_PATTERNS,
  parsePattern,
  patternName,
  SPARSE_VALUE_TYPES,
  sparseBytes,
  sparseStrides,
  type NMPattern,
} from "./sparse-nm.ts";
import { dequantize, quantize } from "./ggml-quants.ts";
import { repack } from "./repack.ts";
import { SkiffError } from "../errors.ts";
import { randomNMValues } from "../kernels/sparse-fixtures.ts";
import { rng } from "../kernels/testing.ts";

const P = (text: string): NMPattern => parsePattern(text);

/** Values with -0 as 0, for exact comparison. */
const plain = (a: ArrayLike<number>): number[] => Array.from(a, (v) => v + 0);

describe("parsePattern", () => {
  test("reads the runnable patterns", () => {
    expect(P("2:4")).toEqual({ n: 2, m: 4 });
    expect(P(" 1:4 ")).toEqual({ n: 1, m: 4 });
    expect(P("2:8")).toEqual({ n: 2, m: 8 });
    expect(P("4 : 8")).toEqual({ n: 4, m: 8 });
    expect(NM_PATTERNS.map(patternName)).toEqual(["1:4", "2:8", "2:4", "4:8"]);
  });

  for (const bad of ["3:2", "0:4", "2:3", "4:4", "3:4", "1:8", "2:16", "2", "a:b", "", "2:4:8", "-2:4"]) {
    test(`refuses "${bad}" with bad-argument, naming it`, () => {
      let error: unknown;
      try {
        parsePattern(bad);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SkiffError);
      expect((error as SkiffError).code).toBe("bad-argument");
      expect((error as SkiffError).message).toContain(`"${bad}"`);
      expect((error as SkiffError).message).toContain("1:4, 2:8, 2:4, 4:8");
    });
  }
});

/** rows x cols zeros with `nonZeros` ones at [row, col]. */
function tensor(rows: number, cols: number, nonZeros: [number, number][]): Float32Array {
  const t = new Float32Array(rows * cols);
  for (const [r, c] of nonZeros) t[r * cols + c] = 1.5;
  return t;
}

describe("detectNM", () => {
  test("finds the tightest pattern a tensor satisfies exactly", () => {
    const random = rng(7);
    // Full groups at random columns: exactly that pattern, and no tighter one.
    for (const p of NM_PATTERNS) {
      const t = randomNMValues(3, 64, p, random, 1, true);
      expect(detectNM(t, 3, 64), patternName(p)).toEqual(p);
    }
    expect(detectNM(new Float64Array(2 * 16), 2, 16)).toEqual(P("1:4"));
    // Two non-zeros in the same half of an 8-group: 2:8 holds, 1:4 does not.
    expect(
      detectNM(
        tensor(1, 16, [
          [0, 0],
          [0, 1],
          [0, 9],
        ]),
        1,
        16,
      ),
    ).toEqual(P("2:8"));
    // 1:4 everywhere but a 4-group with two: 2:8 fails there (three in its 8-group), 2:4 holds.
    expect(
      detectNM(
        tensor(1, 16, [
          [0, 0],
          [0, 1],
          [0, 5],
          [0, 9],
          [0, 13],
        ]),
        1,
        16,
      ),
    ).toEqual(P("2:4"));
  });

  test("a tensor that is almost N:M (one extra non-zero) stays dense", () => {
    const random = rng(11);
    const t = randomNMValues(4, 64, P("2:4"), random, 1, true);
    // Row 2, group 5 gets a third non-zero: 2:4 fails, and its 8-group then holds 5 > 4.
    const g = 2 * 64 + 5 * 4;
    const zero = [0, 1, 2, 3].find((j) => t[g + j] === 0)!;
    t[g + zero] = 0.25;
    expect(detectNM(t, 4, 64)).toBeUndefined();
    const full48 = randomNMValues(2, 32, P("4:8"), random, 1, true);
    full48[32 + 24 + [0, 1, 2, 3, 4, 5, 6, 7].find((j) => full48[32 + 24 + j] === 0)!] = -3;
    expect(detectNM(full48, 2, 32)).toBeUndefined();
  });

  test("needs whole groups and the right length", () => {
    expect(detectNM(tensor(1, 6, [[0, 0]]), 1, 6)).toBeUndefined();
    expect(detectNM(tensor(1, 12, [[0, 0]]), 1, 12)).toEqual(P("1:4"));
    expect(() => detectNM(new Float32Array(5), 2, 3)).toThrow(/5 values for rows=2 x cols=3/);
  });
});

describe("detectPackedNM", () => {
  /** Values stored as `type` in the runtime planes, as import has them. */
  const packed = (type: (typeof SPARSE_VALUE_TYPES)[number], t: Float32Array, rows: number, cols: number) =>
    repack(type, quantize(type, t), rows, cols);

  test("finds on the runtime planes of every value type the pattern of the values", () => {
    const random = rng(13);
    for (const type of SPARSE_VALUE_TYPES) {
      for (const p of NM_PATTERNS) {
        const t = randomNMValues(3, 96, p, random, 1, true);
        expect(detectPackedNM(packed(type, t, 3, 96)), `${type} ${patternName(p)}`).toEqual(p);
      }
      // Dense random weights: no pattern (and the scan stops at the first crowded group).
      const dense = Float32Array.from({ length: 2 * 64 }, () => random() - 0.5);
      expect(detectPackedNM(packed(type, dense, 2, 64)), type).toBeUndefined();
    }
  });

  test("one extra non-zero keeps a quantized tensor dense; a zero-scale block counts as zeros", () => {
    const random = rng(17);
    for (const type of SPARSE_VALUE_TYPES) {
      const t = randomNMValues(4, 64, P("2:4"), random, 1, true);
      const g = 3 * 64 + 9 * 4;
      t[g + [0, 1, 2, 3].find((j) => t[g + j] === 0)!] = 0.75;
      expect(detectPackedNM(packed(type, t, 4, 64)), type).toBeUndefined();
    }
    // q4_0 with every block's scale 0 (all weights zero): 1:4, as the values say.
    const zeros = packed("q4_0", new Float32Array(64), 1, 64);
    zeros.codes.fill(0x77777777);
    expect(detectPackedNM(zeros)).toEqual(P("1:4"));
  });

  test("types sparse weights cannot hold are never detected", () => {
    const t = randomNMValues(1, 256, P("1:4"), rng(19), 1, true);
    expect(detectPackedNM(repack("q4_k", quantize("q4_k", t), 1, 256))).toBeUndefined();
  });
});

describe("expandNM", () => {
  test("gives back the dense planes code for code, for every value type and pattern", () => {
    const random = rng(23);
    for (const type of SPARSE_VALUE_TYPES) {
      const shapes: [number, number][] = type.startsWith("q")
        ? [
            [3, 96],
            [1, 32],
          ]
        : [
            [3, 96],
            [2, 40],
          ];
      for (const p of NM_PATTERNS) {
        for (const [rows, cols] of shapes) {
          if (cols % p.m) continue;
          const dense = repack(type, quantize(type, randomNMValues(rows, cols, p, random, 1, true)), rows, cols);
          const back = expandNM(compressPackedNM(dense, p));
          const what = `${type} ${patternName(p)} ${rows}x${cols}`;
          expect(Array.from(back.codes), what).toEqual(Array.from(dense.codes));
          expect(back.scales && Array.from(back.scales), what).toEqual(dense.scales && Array.from(dense.scales));
          expect([back.type, back.rows, back.cols]).toEqual([type, rows, cols]);
        }
      }
    }
  });
});

describe("compressNM / decompressNM", () => {
  const shapes: Record<string, [number, number][]> = {
    float4: [
      [1, 4],
      [3, 36],
      [2, 100],
    ],
    float8: [
      [1, 8],
      [3, 40],
      [2, 104],
    ],
    block: [
      [1, 32],
      [3, 96],
    ],
  };

  for (const type of SPARSE_VALUE_TYPES) {
    for (const p of NM_PATTERNS) {
      const list = type === "q8_0" || type === "q4_0" ? shapes.block : p.m === 4 ? shapes.float4 : shapes.float8;
      for (const [rows, cols] of list) {
        test(`${patternName(p)} ${type} (rows=${rows}, cols=${cols}) is exactly the dense tensor`, () => {
          const values = randomNMValues(rows, cols, p, rng(rows * 1000 + cols), 2);
          const s = compressNM(values, rows, cols, type, p);
          const st = sparseStrides(p, type, cols);
          expect(s.positions.length).toBe(rows * st.positionWords);
          expect(s.values.length).toBe(rows * st.valueWords);
          expect(s.scales?.length ?? 0).toBe(rows * st.scaleWords);
          expect(sparseBytes(p, type, rows, cols)).toBe(
            4 * (s.positions.length + s.values.length + (s.scales?.length ?? 0)),
          );
          // The dense tensor as stored: the same type, zeros written out (a q4_0 zero may be -0 there).
          const dense = dequantize(type, quantize(type, values), rows * cols);
          expect(plain(decompressNM(s))).toEqual(plain(dense));
        });
      }
    }
  }

  test("planes follow the documented layout (2:4 q4_0)", () => {
    // Row 0, block 0: group 0 keeps columns 1 and 3, group 1 only column 6 (padded with column 4), rest zero.
    const values = new Float32Array(32);
    values[1] = 1;
    values[3] = -1;
    values[6] = 0.5;
    const s = compressNM(values, 1, 32, "q4_0", "2:4");
    // Positions: kept k at bits 2k: (1, 3), (0, 2), then (0, 1) for the empty groups.
    const fields = Array.from({ length: 16 }, (_, k) => (s.positions[0] >>> (2 * k)) & 3);
    expect(fields).toEqual([1, 3, 0, 2, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
    // q4_0 of this block: d = -1/8, so 1 -> code 0, -1 -> code 16 (clamped to 15), 0.5 -> 4, and zeros are code 8.
    const codes = Array.from({ length: 16 }, (_, k) => (s.values[k >> 3] >>> (4 * (k & 7))) & 15);
    expect(codes).toEqual([0, 15, 8, 4, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8]);
    expect(s.scales).toEqual(repack("q4_0", quantize("q4_0", values), 1, 32).scales);
  });

  test("keeps a q4_0 source's own codes and scales, zeros as code 8", () => {
    const random = rng(3);
    const values = randomNMValues(2, 64, P("1:4"), random);
    const bytes = quantize("q4_0", values);
    const dense = repack("q4_0", bytes, 2, 64);
    const s = compressPackedNM(dense, "1:4");
    expect(s.scales).toEqual(dense.scales);
    expect(plain(decompressNM(s))).toEqual(plain(dequantize("q4_0", bytes, 128)));
  });

  test("refuses tensors that break the pattern, bad shapes and types, naming them", () => {
    const t = tensor(2, 8, [
      [1, 4],
      [1, 5],
      [1, 7],
    ]);
    expect(() => compressNM(t, 2, 8, "f32", "2:4", "ffn.w1")).toThrow(
      /tensor ffn\.w1 \(f32, rows=2, cols=8\): row 1, columns 4\.\.7 hold more than 2 non-zeros, so .* not 2:4/,
    );
    expect(() => compressNM(new Float32Array(12), 2, 6, "f16", "2:4")).toThrow(/cols must be a multiple of 4 for 2:4/);
    expect(() => compressNM(new Float32Array(16), 2, 8, "f32", "3:4")).toThrow(/"3:4" is not supported/);
    expect(() => compressNM(new Float32Array(16), 2, 8, "q4_k" as "f32", "2:4")).toThrow(
      /sparse weights hold f32, f16, q8_0, q4_0 values, not q4_k/,
    );
    expect(() => compressNM(new Float32Array(15), 2, 8, "f32", "2:4")).toThrow(/got 15 values/);
    const s = compressNM(new Float32Array(16), 2, 8, "f32", "2:4");
    expect(() => decompressNM({ ...s, values: s.values.subarray(1) })).toThrow(/values hold 31 words, not 32/);
  });
});

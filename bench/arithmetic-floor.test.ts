import { describe, expect, it } from "vitest";
import { withoutWeightLoads } from "./arithmetic-floor.ts";

const KERNEL = `enable subgroups;
@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> codes: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read> scales: array<u32>;

fn dot_block(row: u32, b: u32) -> f32 {
  let w = codes[row * 8u + b];
  let d = unpack2x16float(scales[(row * 8u + b) >> 1u]).x;
  let v = codes[scales[b] & 7u][1u];
  return d * f32(w.x + v) * x[b].x;
}
`;

describe("withoutWeightLoads", () => {
  it("replaces every read of a weight plane, nested ones too, and leaves activations and outputs alone", () => {
    const floor = withoutWeightLoads(KERNEL);
    expect(floor.reads).toBe(4);
    expect(floor.code).toContain("let w = floor_codes(u32(row * 8u + b));");
    expect(floor.code).toContain("unpack2x16float(floor_scales(u32((row * 8u + b) >> 1u))).x");
    expect(floor.code).toContain("let v = floor_codes(u32(floor_scales(u32(b)) & 7u))[1u];");
    expect(floor.code).toContain("x[b].x");
    expect(floor.code).not.toMatch(/\b(codes|scales)\[/);
  });

  it("keeps the declarations, the enable directive first, and each binding statically used", () => {
    const { code } = withoutWeightLoads(KERNEL);
    expect(code.startsWith("enable subgroups;\n")).toBe(true);
    expect(code).toContain("var<storage, read> codes: array<vec4<u32>>;");
    expect(code).toMatch(/fn floor_codes\(i: u32\) -> vec4<u32> \{\n {2}let keep = arrayLength\(&codes\) & 0u;/);
    expect(code).toMatch(/fn floor_scales\(i: u32\) -> u32 \{\n {2}let keep = arrayLength\(&scales\) & 0u;/);
  });

  it("makes words with normal f32 and f16 bit patterns", () => {
    // The word is (i & 0x00ff00ff) ^ 0x3c0?3c0?: exponent bits of either half never all zero or all one.
    for (const base of [0x3c003c00, 0x3c013c00, 0x3c003c01, 0x3c013c01]) {
      for (const i of [0, 1, 0xff, 0x00ff00ff, 0xffffffff, 0x12345678]) {
        const word = ((i & 0x00ff00ff) ^ base) >>> 0;
        const f32Exponent = (word >>> 23) & 0xff;
        expect(f32Exponent).toBeGreaterThan(0);
        expect(f32Exponent).toBeLessThan(0xff);
        for (const half of [word >>> 16, word & 0xffff]) {
          const f16Exponent = (half >>> 10) & 0x1f;
          expect(f16Exponent).toBeGreaterThan(0);
          expect(f16Exponent).toBeLessThan(0x1f);
        }
      }
    }
    expect(withoutWeightLoads(KERNEL).code).toContain("0x3c013c00u");
  });

  it("returns a kernel without weight planes unchanged", () => {
    const prepass = "@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;\nfn f() -> f32 { return x[0].x; }\n";
    expect(withoutWeightLoads(prepass)).toEqual({ code: prepass, reads: 0 });
  });

  it("refuses an unbalanced index", () => {
    expect(() => withoutWeightLoads(`${KERNEL}\nfn g() -> u32 { return scales[1u; }`)).toThrow(/unbalanced \[/);
  });
});

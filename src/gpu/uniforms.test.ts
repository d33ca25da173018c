// Uniform encoding and the WGSL struct parser.
import { describe, expect, test } from "vitest";
import { defineParams, wgslParamFields } from "./uniforms.ts";

describe("uniforms", () => {
  test("encodes fields in order with their types", () => {
    const p = defineParams([
      ["rows", "u32"],
      ["eps", "f32"],
      ["delta", "i32"],
    ] as const);
    expect(p.size).toBe(16);
    const view = new DataView(p.encode({ rows: 7, eps: 0.5, delta: -3 }));
    expect(view.getUint32(0, true)).toBe(7);
    expect(view.getFloat32(4, true)).toBe(0.5);
    expect(view.getInt32(8, true)).toBe(-3);
  });
  test("a missing value is an error naming the field", () => {
    const p = defineParams([["rows", "u32"]] as const);
    expect(() => p.encode({} as { rows: number })).toThrow(/rows/);
  });
  test("parses struct Params with comments and trailing commas", () => {
    const src =
      "struct Params {\n  rows: u32, // the rows\n  eps: f32,\n}\n@group(0) @binding(0) var<uniform> p: Params;";
    expect(wgslParamFields(src)).toEqual([
      ["rows", "u32"],
      ["eps", "f32"],
    ]);
  });
});

// Every launcher's uniform field list must equal its WGSL `struct Params`, name for name and type for type.
import { describe, expect, test } from "vitest";
import { wgslParamFields } from "../gpu/uniforms.ts";
import type { KernelSpec } from "./dispatch.ts";
import type { ParamFields } from "../gpu/uniforms.ts";

const modules = import.meta.glob(["./*.ts", "!./*.test.ts", "!./testing.ts"], { eager: true });

function kernelSpecs(): KernelSpec<ParamFields>[] {
  const specs: KernelSpec<ParamFields>[] = [];
  for (const mod of Object.values(modules)) {
    for (const value of Object.values(mod as Record<string, unknown>)) {
      if (value && typeof value === "object" && "source" in value && "params" in value && "name" in value) {
        specs.push(value as KernelSpec<ParamFields>);
      }
    }
  }
  return specs;
}

describe("uniform field lists", () => {
  test("launchers declare kernels", () => {
    expect(kernelSpecs().length).toBeGreaterThan(0);
  });
  for (const spec of kernelSpecs()) {
    test(`${spec.name} params match struct Params`, () => {
      const wgsl = wgslParamFields(spec.source);
      expect(wgsl.length, `${spec.name} has no struct Params`).toBeGreaterThan(0);
      expect(spec.params.fields.map(([n, t]) => [n, t])).toEqual(wgsl);
    });
  }
});

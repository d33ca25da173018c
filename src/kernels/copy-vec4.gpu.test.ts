// copy-vec4 against the input itself: every word must arrive, bit-exact, with guards untouched, including ranges
// split across bindings and grids folded into two dimensions.
import { describe, test, expect } from "vitest";
import { copyVec4 } from "./copy-vec4.ts";
import { runDispatches } from "./dispatch.ts";
import { uploadBuffer } from "../gpu/readback.ts";
import type { GpuContext } from "../gpu/device.ts";
import { withBindingLimit, withMaxWorkgroups } from "./weight-fixtures.ts";
import { expectClose, freshSeed, guardedOutput, randomF32, readGuardedF32, rng, testContext } from "./testing.ts";

async function checkCopy(ctx: GpuContext, name: string, count: number): Promise<void> {
  const seed = freshSeed();
  const x = randomF32(count * 4, rng(seed), 10);
  const out = guardedOutput(ctx, count * 4);
  const k = await copyVec4(ctx, { x: uploadBuffer(ctx.device, x), out: out.binding, count });
  await runDispatches(ctx, k.dispatches);
  expectClose(name, seed, await readGuardedF32(ctx, out), x, 0);
}

describe("copy-vec4", () => {
  for (const count of [1, 33, 257, 4097, 65537]) {
    test(`copy-vec4(count=${count})`, async () => {
      await checkCopy(await testContext(), `copy-vec4(count=${count})`, count);
    });
  }

  test("copy-vec4(count=1000) split into 4 KiB bindings", async () => {
    const ctx = await testContext();
    await withBindingLimit(ctx, 4096, () => checkCopy(ctx, "copy-vec4(count=1000, bindingLimit=4096)", 1000));
  });

  test("copy-vec4(count=2000) on a grid folded at 3 workgroups per dimension", async () => {
    const ctx = withMaxWorkgroups(await testContext(), 3);
    await checkCopy(ctx, "copy-vec4(count=2000, maxWorkgroupsPerDim=3)", 2000);
  });

  test("copy-vec4 rejects a zero count and a short output", async () => {
    const ctx = await testContext();
    const small = uploadBuffer(ctx.device, new Float32Array(16));
    const large = uploadBuffer(ctx.device, new Float32Array(64));
    expect(() => copyVec4(ctx, { x: large, out: large, count: 0 })).toThrow(/count=0/);
    expect(() => copyVec4(ctx, { x: large, out: small, count: 5 })).toThrow(/out holds 64 bytes, count=5 needs 80/);
  });
});

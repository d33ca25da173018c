// The client through a real Worker and Comlink: import, load, generate as an async iterator from token ids,
// the golden greedy ids, and errors that keep their code across the boundary.
import { expect, test } from "@playwright/test";
import golden from "../src/reference/fixtures/stories260k-golden.json" with { type: "json" };

test("worker client: async-iterated golden generation and coded errors", async ({ page }) => {
  await page.goto("/e2e/pages/blank.html");
  const out = await page.evaluate(async (prompt) => {
    const { createEngine } = (await import(
      /* @vite-ignore */ "/src/worker/client.ts" as string
    )) as typeof import("../src/worker/client.ts");
    const skiff = createEngine();
    const model = await skiff.importModel("/models/stories260K-f32.gguf", { name: "worker-test.gguf" });
    const loaded = await skiff.load(model.id, { contextLength: 128 });
    const ids: number[] = [];
    const generation = skiff.generate({ ids: prompt }, { temperature: 0, maxTokens: 50, stopAtEos: false });
    for await (const t of generation) ids.push(t.id);
    const result = await generation;
    let code = "";
    try {
      await skiff.load("no-such-model");
    } catch (e) {
      code = (e as { code: string }).code;
    }
    await skiff.dispose();
    return { ids, resultIds: result.tokenIds, gpuBytes: result.stats.gpuBytes, loadedBytes: loaded.gpuBytes, code };
  }, golden.prompt);
  expect(out.ids).toEqual(golden.ids);
  expect(out.resultIds).toEqual(golden.ids);
  expect(out.gpuBytes).toBe(out.loadedBytes);
  expect(out.code).toBe("bad-argument");
});

// Import into IndexedDB in the browser: progress, round trip, abort, corrupt and unsupported input, quota.
import { afterEach, describe, expect, test, vi } from "vitest";
import q4Url from "../../../shared/models/stories260K-q4_0.gguf?url";
import { ModelStore } from "./model-store.ts";
import { importGguf, type ImportProgress } from "./import-gguf.ts";
import { readGgufHeader } from "../loaders/gguf.ts";
import { repack } from "../loaders/repack.ts";
import { syntheticLlamaGguf } from "../loaders/synthetic-model.ts";
import { writeGguf } from "../loaders/gguf-writer.ts";
import { SkiffError } from "../errors.ts";

let n = 0;
/** A fresh pair of databases per test, so tests never see each other's models. */
function freshStore(): ModelStore {
  return new ModelStore(`skiff-test-${Date.now()}-${n++}`);
}

async function q4Blob(): Promise<Blob> {
  return (await fetch(q4Url)).blob();
}

afterEach(() => vi.restoreAllMocks());

async function expectCode(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, "expected a SkiffError").toBeInstanceOf(SkiffError);
  expect((error as SkiffError).code).toBe(code);
  expect((error as SkiffError).message).toMatch(message);
}

describe("import-gguf", () => {
  test("imports stories260K-q4_0 with progress; planes read back equal the repacked tensors", async () => {
    const store = freshStore();
    const blob = await q4Blob();
    const progress: ImportProgress[] = [];
    const m = await importGguf(store, blob, { name: "stories260K-q4_0.gguf", onProgress: (p) => progress.push(p) });
    expect(m.complete).toBe(true);
    expect(m.config.nLayers).toBe(5);
    expect(m.tensors.length).toBe(2 + 5 * 9);
    expect(progress.at(-1)).toMatchObject({ tensorsDone: m.tensors.length, tensorsTotal: m.tensors.length });
    for (let i = 1; i < progress.length; i++)
      expect(progress[i].bytesDone).toBeGreaterThanOrEqual(progress[i - 1].bytesDone);
    expect((await store.list()).map((x) => x.id)).toEqual([m.id]);

    const header = await readGgufHeader(blob);
    const info = header.tensors.find((t) => t.name === "blk.3.attn_k.weight")!;
    const raw = new Uint8Array(await blob.slice(info.offset, info.offset + info.byteSize).arrayBuffer());
    const packed = repack("q4_0", raw, info.dims[1], info.dims[0]);
    const stored = m.tensors.find((t) => t.name === "layers.3.wk")!;
    expect(stored.dtype).toBe("q4_0");
    const codes = await store.readPlane(m.id, stored, "codes");
    expect(new Uint32Array(codes.buffer)).toEqual(packed.codes);
    const scales = await store.readPlane(m.id, stored, "scales");
    expect(new Uint32Array(scales.buffer)).toEqual(packed.scales);
    await store.remove(m.id);
    expect(await store.list()).toEqual([]);
  });

  test("an aborted import is never listed and leaves nothing behind", async () => {
    const store = freshStore();
    const controller = new AbortController();
    const attempt = importGguf(store, await q4Blob(), {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.tensorsDone === 5) controller.abort();
      },
    });
    await expectCode(attempt, "aborted", /cancelled/);
    expect(await store.list()).toEqual([]);
    expect(await store.removeIncomplete()).toEqual([]);
  });

  test("an import that died half-way is not listed and is cleaned up", async () => {
    const store = freshStore();
    const writer = await store.beginImport({ id: "half", name: "half", source: "x", config: {}, tokenizer: {} }, 10);
    await writer.addTensor({ name: "t", dtype: "f32", shape: [4] }, { values: new Uint8Array(16) });
    expect(await store.list()).toEqual([]);
    expect(await store.manifest("half")).toBeUndefined();
    expect(await store.removeIncomplete()).toEqual(["half"]);
  });

  test("a truncated GGUF is refused and nothing is kept", async () => {
    const store = freshStore();
    const blob = await q4Blob();
    await expectCode(importGguf(store, blob.slice(0, blob.size - 5000), { name: "cut.gguf" }), "bad-gguf", /truncated/);
    expect(await store.list()).toEqual([]);
  });

  test("an unsupported tensor type is refused by tensor name and type", async () => {
    const good = syntheticLlamaGguf({
      // Rows of 256: whole Q2_K super-blocks, so the file is well-formed and only the type is refused.
      dim: 256,
      hiddenDim: 256,
      nLayers: 1,
      nHeads: 2,
      nKvHeads: 1,
      vocabSize: 300,
      seqLen: 64,
      type: "f32",
      seed: 1,
    });
    const header = await readGgufHeader(new Blob([good as BlobPart]));
    const tensors = header.tensors.map((t) => {
      const data = good.slice(t.offset, t.offset + t.byteSize);
      // Rewrite blk.0.ffn_up as Q2_K (type 10): 84 bytes per 256 elements.
      if (t.name === "blk.0.ffn_up.weight")
        return { name: t.name, dims: t.dims, type: 10, data: new Uint8Array((t.dims[0] * t.dims[1] * 84) / 256) };
      return { name: t.name, dims: t.dims, type: t.type, data };
    });
    type Metadata = Parameters<typeof writeGguf>[0]["metadata"];
    const metadata: Metadata = [];
    for (const [k, v] of header.metadata) {
      if (typeof v === "string") metadata.push([k, { type: "string", value: v }]);
      else if (typeof v === "number") metadata.push([k, { type: Number.isInteger(v) ? "u32" : "f32", value: v }]);
      else if (typeof v === "boolean") metadata.push([k, { type: "bool", value: v }]);
      else if (k === "tokenizer.ggml.tokens") metadata.push([k, { type: "string[]", value: v as string[] }]);
    }
    const bad = writeGguf({ metadata, tensors });
    const store = freshStore();
    await expectCode(
      importGguf(store, new Blob([bad as BlobPart]), { name: "q2k.gguf" }),
      "unsupported-type",
      /blk\.0\.ffn_up\.weight is Q2_K/,
    );
    expect(await store.list()).toEqual([]);
  });

  test("an unsupported architecture is refused by name", async () => {
    const gguf = syntheticLlamaGguf({
      dim: 32,
      hiddenDim: 64,
      nLayers: 1,
      nHeads: 2,
      nKvHeads: 1,
      vocabSize: 300,
      seqLen: 64,
      type: "f32",
      seed: 2,
      architecture: "mamba",
    });
    await expectCode(importGguf(freshStore(), new Blob([gguf as BlobPart])), "unsupported-architecture", /"mamba"/);
  });

  test("a full quota is a clear error before anything is written", async () => {
    vi.spyOn(navigator.storage, "estimate").mockResolvedValue({ usage: 1000, quota: 2000 });
    const store = freshStore();
    await expectCode(
      importGguf(store, await q4Blob(), { name: "big.gguf" }),
      "quota-exceeded",
      /Not enough storage for big\.gguf/,
    );
    expect(await store.list()).toEqual([]);
  });

  test("imports from a URL with download progress", async () => {
    const store = freshStore();
    const seen: ImportProgress[] = [];
    const m = await importGguf(store, q4Url, { onProgress: (p) => seen.push(p) });
    expect(m.complete).toBe(true);
    expect(seen.some((p) => p.phase === "download")).toBe(true);
    // The dev server answers unknown paths with its HTML page: that must read as "not a GGUF", not crash.
    await expectCode(importGguf(store, "/no/such/model.gguf"), "bad-gguf", /Not a GGUF file/);
  });
});

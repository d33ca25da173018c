// GGUF reader: the shared stories260K files, a round trip through the writer, and corrupt input.
import { describe, expect, test } from "vitest";
import { readFileSync } from "node:fs";
import { parseGgufHeader, readGgufHeader, NeedMoreBytes, metaNumber, metaString } from "./gguf.ts";
import { writeGguf } from "./gguf-writer.ts";
import { GGML_TYPE } from "./ggml-types.ts";
import { SkiffError } from "../errors.ts";

const MODELS = new URL("../../../shared/models/", import.meta.url);

function load(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(name, MODELS)));
}

function sample(): Uint8Array {
  return writeGguf(sampleInput());
}

describe("gguf reader", () => {
  test("reads stories260K-q4_0: metadata and tensor table", () => {
    const bytes = load("stories260K-q4_0.gguf");
    const h = parseGgufHeader(bytes, bytes.byteLength);
    expect(h.version).toBe(3);
    expect(metaString(h, "general.architecture")).toBe("llama");
    expect(metaNumber(h, "llama.embedding_length")).toBe(64);
    expect(metaNumber(h, "llama.block_count")).toBe(5);
    const q = h.tensors.find((t) => t.name === "blk.0.attn_q.weight")!;
    expect(q.dims).toEqual([64, 64]);
    expect(q.type).toBe(GGML_TYPE.Q4_0);
    const down = h.tensors.find((t) => t.name === "blk.0.ffn_down.weight")!;
    expect(down.type).toBe(GGML_TYPE.F32);
    expect(h.tensors.some((t) => t.name === "output.weight")).toBe(false);
    const tokens = h.metadata.get("tokenizer.ggml.tokens") as string[];
    expect(tokens.length).toBe(512);
    expect(tokens[1]).toBe("<s>");
  });

  test("round-trips the writer's output, including v2 and a larger alignment", () => {
    for (const [version, alignment] of [
      [3, 32],
      [2, 64],
    ] as const) {
      const bytes = writeGguf({ ...sampleInput(), version, alignment });
      const h = parseGgufHeader(bytes, bytes.byteLength);
      expect(h.version).toBe(version);
      expect(h.alignment).toBe(alignment);
      expect(h.metadata.get("tokenizer.ggml.tokens")).toEqual(["<unk>", "a", "ü"]);
      expect(Array.from(h.metadata.get("tokenizer.ggml.scores") as Float32Array)).toEqual([0, -1.5, -2]);
      const a = h.tensors[0];
      expect(new Float32Array(bytes.slice(a.offset, a.offset + a.byteSize).buffer)).toEqual(
        new Float32Array([1, 2, 3, 4, 5, 6]),
      );
      expect(h.tensors[1].offset % alignment).toBe(0);
    }
  });

  test("asks for more bytes when the prefix is short, then succeeds from a Blob", async () => {
    const bytes = sample();
    expect(() => parseGgufHeader(bytes.subarray(0, 40), bytes.byteLength)).toThrow(NeedMoreBytes);
    const h = await readGgufHeader(new Blob([bytes as BlobPart]), 16);
    expect(h.tensors.map((t) => t.name)).toEqual(["a", "b"]);
  });

  test("every truncation is a clear error, never a hang or a crash", () => {
    const bytes = sample();
    const full = parseGgufHeader(bytes, bytes.byteLength);
    const dataEnd = Math.max(...full.tensors.map((t) => t.offset + t.byteSize));
    for (let cut = 0; cut < dataEnd; cut += 3) {
      const part = bytes.subarray(0, cut);
      expect(() => parseGgufHeader(part, part.byteLength), `cut at ${cut}`).toThrow(SkiffError);
    }
    const real = load("stories260K-f32.gguf");
    const cut = real.subarray(0, real.byteLength - 100);
    expect(() => parseGgufHeader(cut, cut.byteLength)).toThrow(/truncated.*output_norm|truncated/);
  });

  test("corrupt fields are named", () => {
    const bytes = sample();
    const bad = (mutate: (v: DataView) => void) => {
      const copy = bytes.slice();
      mutate(new DataView(copy.buffer));
      return () => parseGgufHeader(copy, copy.byteLength);
    };
    expect(bad((v) => v.setUint32(0, 0x12345678, true))).toThrow(/Not a GGUF file/);
    expect(bad((v) => v.setUint32(4, 7, true))).toThrow(/version 7/);
    expect(bad((v) => v.setUint32(4, 0x03000000, true))).toThrow(/big-endian/);
    expect(bad((v) => v.setBigUint64(8, 1n << 40n, true))).toThrow(/cannot fit/);
    expect(bad((v) => v.setBigUint64(24, 1n << 50n, true))).toThrow(/metadata key 0 claims/);
  });

  test("an unknown tensor type is refused by name", () => {
    const input = sampleInput();
    const bytes = writeGguf(input);
    const h = parseGgufHeader(bytes, bytes.byteLength);
    // Patch tensor b's type field (u32 right before its u64 offset) to an id ggml never had.
    const typeAt = findTensorTypeOffset(bytes, "b");
    const copy = bytes.slice();
    new DataView(copy.buffer).setUint32(typeAt, 99, true);
    expect(h.tensors[1].type).toBe(GGML_TYPE.Q8_0);
    expect(() => parseGgufHeader(copy, copy.byteLength)).toThrow(/Tensor b has unknown ggml type 99/);
  });
});

function sampleInput() {
  return {
    metadata: [
      ["general.architecture", { type: "string", value: "llama" }],
      ["llama.block_count", { type: "u32", value: 2 }],
      ["tokenizer.ggml.tokens", { type: "string[]", value: ["<unk>", "a", "ü"] }],
      ["tokenizer.ggml.scores", { type: "f32[]", value: [0, -1.5, -2] }],
    ] as Parameters<typeof writeGguf>[0]["metadata"],
    tensors: [
      {
        name: "a",
        dims: [3, 2],
        type: GGML_TYPE.F32,
        data: new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer),
      },
      { name: "b", dims: [32], type: GGML_TYPE.Q8_0, data: new Uint8Array(34) },
    ],
  };
}

/** Byte offset of a tensor info's type field: name string, n_dims, dims, then the type. */
function findTensorTypeOffset(bytes: Uint8Array, name: string): number {
  const needle = new TextEncoder().encode(name);
  for (let i = 8; i < bytes.length - needle.length; i++) {
    const len = new DataView(bytes.buffer).getBigUint64(i - 8, true);
    if (len === BigInt(needle.length) && needle.every((b, j) => bytes[i + j] === b)) {
      const nDims = new DataView(bytes.buffer).getUint32(i + needle.length, true);
      if (nDims >= 1 && nDims <= 4) return i + needle.length + 4 + nDims * 8;
    }
  }
  throw new Error(`tensor ${name} not found`);
}

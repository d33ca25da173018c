// GGUF writer (v3, little-endian): synthetic test models and tools write files the reader must accept.
import { GGUF_MAGIC, GgufValueType } from "./gguf.ts";
import { ggmlType } from "./ggml-types.ts";

export type GgufWriteValue =
  | { type: "u32" | "i32" | "f32" | "u64" | "u8" | "bool"; value: number | boolean }
  | { type: "string"; value: string }
  | { type: "f32[]"; value: ArrayLike<number> }
  | { type: "i32[]"; value: ArrayLike<number> }
  | { type: "string[]"; value: string[] };

export interface GgufWriteTensor {
  name: string;
  /** ggml order: dims[0] is the row length. */
  dims: number[];
  type: number;
  /** Raw bytes in the tensor's ggml type. */
  data: Uint8Array;
}

export interface GgufWriteInput {
  metadata: [key: string, value: GgufWriteValue][];
  tensors: GgufWriteTensor[];
  alignment?: number;
  version?: 2 | 3;
}

class ByteSink {
  private chunks: Uint8Array[] = [];
  length = 0;
  bytes(b: Uint8Array): void {
    this.chunks.push(b);
    this.length += b.byteLength;
  }
  private fixed(size: number, fill: (v: DataView) => void): void {
    const b = new Uint8Array(size);
    fill(new DataView(b.buffer));
    this.bytes(b);
  }
  u8(v: number): void {
    this.fixed(1, (d) => d.setUint8(0, v));
  }
  u32(v: number): void {
    this.fixed(4, (d) => d.setUint32(0, v, true));
  }
  i32(v: number): void {
    this.fixed(4, (d) => d.setInt32(0, v, true));
  }
  f32(v: number): void {
    this.fixed(4, (d) => d.setFloat32(0, v, true));
  }
  u64(v: number): void {
    this.fixed(8, (d) => d.setBigUint64(0, BigInt(v), true));
  }
  string(s: string): void {
    const b = new TextEncoder().encode(s);
    this.u64(b.byteLength);
    this.bytes(b);
  }
  pad(alignment: number): void {
    const rest = (alignment - (this.length % alignment)) % alignment;
    if (rest) this.bytes(new Uint8Array(rest));
  }
  concat(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.byteLength;
    }
    return out;
  }
}

function writeValue(s: ByteSink, v: GgufWriteValue): void {
  switch (v.type) {
    case "u8":
      s.u32(GgufValueType.UINT8);
      return s.u8(Number(v.value));
    case "bool":
      s.u32(GgufValueType.BOOL);
      return s.u8(v.value ? 1 : 0);
    case "u32":
      s.u32(GgufValueType.UINT32);
      return s.u32(Number(v.value));
    case "i32":
      s.u32(GgufValueType.INT32);
      return s.i32(Number(v.value));
    case "f32":
      s.u32(GgufValueType.FLOAT32);
      return s.f32(Number(v.value));
    case "u64":
      s.u32(GgufValueType.UINT64);
      return s.u64(Number(v.value));
    case "string":
      s.u32(GgufValueType.STRING);
      return s.string(v.value);
    case "f32[]":
    case "i32[]": {
      s.u32(GgufValueType.ARRAY);
      s.u32(v.type === "f32[]" ? GgufValueType.FLOAT32 : GgufValueType.INT32);
      s.u64(v.value.length);
      for (let i = 0; i < v.value.length; i++) (v.type === "f32[]" ? s.f32 : s.i32).call(s, v.value[i]);
      return;
    }
    case "string[]":
      s.u32(GgufValueType.ARRAY);
      s.u32(GgufValueType.STRING);
      s.u64(v.value.length);
      for (const item of v.value) s.string(item);
  }
}

export function writeGguf(input: GgufWriteInput): Uint8Array {
  const alignment = input.alignment ?? 32;
  const s = new ByteSink();
  s.u32(GGUF_MAGIC);
  s.u32(input.version ?? 3);
  s.u64(input.tensors.length);
  const metadata = input.metadata.filter(([k]) => k !== "general.alignment");
  if (alignment !== 32) metadata.unshift(["general.alignment", { type: "u32", value: alignment }]);
  s.u64(metadata.length);
  for (const [key, value] of metadata) {
    s.string(key);
    writeValue(s, value);
  }
  let offset = 0;
  const offsets: number[] = [];
  for (const t of input.tensors) {
    const info = ggmlType(t.type);
    const elements = t.dims.reduce((a, b) => a * b, 1);
    if (!info || (elements / info.blockSize) * info.typeSize !== t.data.byteLength) {
      throw new Error(`writeGguf: tensor ${t.name} has ${t.data.byteLength} bytes, wrong for its type and dims`);
    }
    s.string(t.name);
    s.u32(t.dims.length);
    for (const d of t.dims) s.u64(d);
    s.u32(t.type);
    s.u64(offset);
    offsets.push(offset);
    offset += Math.ceil(t.data.byteLength / alignment) * alignment;
  }
  s.pad(alignment);
  for (const t of input.tensors) {
    s.bytes(t.data);
    s.pad(alignment);
  }
  return s.concat();
}

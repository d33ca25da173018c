// GGUF reader (v2, v3): metadata and tensor infos, every count, length and offset checked against the
// file's size before anything is allocated. Reads a prefix of the file; asks for a longer one if needed.
import { SkiffError } from "../errors.ts";
import { ggmlType, ggmlTypeName } from "./ggml-types.ts";

export const GGUF_MAGIC = 0x46554747;

export enum GgufValueType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}

/** Numeric arrays come back as typed arrays (token scores and types are long); 64-bit ints as numbers. */
export type GgufValue = number | boolean | string | GgufArray;
export type GgufArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array
  | number[]
  | boolean[]
  | string[]
  | GgufArray[];

export interface GgufTensorInfo {
  name: string;
  /** ggml order: dims[0] is the contiguous (row) length. */
  dims: number[];
  type: number;
  /** Absolute byte offset of the tensor's data in the file. */
  offset: number;
  byteSize: number;
}

export interface GgufHeader {
  version: number;
  alignment: number;
  metadata: Map<string, GgufValue>;
  tensors: GgufTensorInfo[];
  /** Absolute offset where tensor data starts. */
  dataOffset: number;
  fileSize: number;
}

/** Thrown internally when the prefix ends before the header does; the caller reads more. */
export class NeedMoreBytes extends Error {
  constructor(readonly wanted: number) {
    super(`GGUF header needs more than ${wanted} bytes`);
  }
}

const MAX_DIMS = 4;
const MAX_STRING = 1 << 24; // 16 MiB: a chat template or merge list entry is far smaller.

class Cursor {
  pos = 0;
  private readonly view: DataView;
  private readonly decoder = new TextDecoder("utf-8", { fatal: true });
  constructor(
    private readonly bytes: Uint8Array,
    private readonly fileSize: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Fails as corrupt when past the file's end, or asks for more when only past the prefix. */
  need(n: number, what: string): void {
    const end = this.pos + n;
    if (!Number.isFinite(end) || end > this.fileSize) {
      throw new SkiffError(
        "bad-gguf",
        `GGUF is truncated or corrupt: ${what} at byte ${this.pos} needs ${n} bytes but the file has ${this.fileSize}`,
      );
    }
    if (end > this.bytes.byteLength) throw new NeedMoreBytes(end);
  }
  u8(): number {
    this.need(1, "u8");
    return this.view.getUint8(this.pos++);
  }
  u32(what = "u32"): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u64(what = "u64"): number {
    this.need(8, what);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new SkiffError("bad-gguf", `GGUF is corrupt: ${what} = ${v} at byte ${this.pos - 8} is impossibly large`);
    }
    return Number(v);
  }
  i64(): number {
    this.need(8, "i64");
    const v = this.view.getBigInt64(this.pos, true);
    this.pos += 8;
    return Number(v);
  }
  scalar(type: GgufValueType): number | boolean {
    const v = this.view;
    const at = this.pos;
    switch (type) {
      case GgufValueType.UINT8:
        return this.u8();
      case GgufValueType.INT8:
        this.need(1, "i8");
        this.pos += 1;
        return v.getInt8(at);
      case GgufValueType.UINT16:
        this.need(2, "u16");
        this.pos += 2;
        return v.getUint16(at, true);
      case GgufValueType.INT16:
        this.need(2, "i16");
        this.pos += 2;
        return v.getInt16(at, true);
      case GgufValueType.UINT32:
        return this.u32();
      case GgufValueType.INT32:
        this.need(4, "i32");
        this.pos += 4;
        return v.getInt32(at, true);
      case GgufValueType.FLOAT32:
        this.need(4, "f32");
        this.pos += 4;
        return v.getFloat32(at, true);
      case GgufValueType.BOOL:
        return this.u8() !== 0;
      case GgufValueType.UINT64:
        return this.u64("u64 value");
      case GgufValueType.INT64:
        return this.i64();
      case GgufValueType.FLOAT64:
        this.need(8, "f64");
        this.pos += 8;
        return v.getFloat64(at, true);
      default:
        throw new SkiffError("bad-gguf", `GGUF is corrupt: unknown value type ${type} at byte ${at}`);
    }
  }
  string(what: string): string {
    const len = this.u64(`length of ${what}`);
    if (len > MAX_STRING) throw new SkiffError("bad-gguf", `GGUF is corrupt: ${what} claims ${len} bytes`);
    this.need(len, what);
    const bytes = this.bytes.subarray(this.pos, this.pos + len);
    this.pos += len;
    try {
      return this.decoder.decode(bytes);
    } catch {
      throw new SkiffError("bad-gguf", `GGUF is corrupt: ${what} is not valid UTF-8`);
    }
  }
  typedArray(type: GgufValueType, count: number): GgufArray {
    const sizes: Partial<Record<GgufValueType, number>> = {
      [GgufValueType.UINT8]: 1,
      [GgufValueType.INT8]: 1,
      [GgufValueType.UINT16]: 2,
      [GgufValueType.INT16]: 2,
      [GgufValueType.UINT32]: 4,
      [GgufValueType.INT32]: 4,
      [GgufValueType.FLOAT32]: 4,
      [GgufValueType.FLOAT64]: 8,
    };
    const size = sizes[type];
    if (size === undefined) {
      const out: (number | boolean)[] = [];
      for (let i = 0; i < count; i++) out.push(this.scalar(type));
      return out as number[] | boolean[];
    }
    this.need(count * size, "array");
    // Copy so the result is aligned and independent of the (possibly huge) prefix buffer.
    const raw = this.bytes.slice(this.pos, this.pos + count * size).buffer;
    this.pos += count * size;
    switch (type) {
      case GgufValueType.UINT8:
        return new Uint8Array(raw);
      case GgufValueType.INT8:
        return new Int8Array(raw);
      case GgufValueType.UINT16:
        return new Uint16Array(raw);
      case GgufValueType.INT16:
        return new Int16Array(raw);
      case GgufValueType.UINT32:
        return new Uint32Array(raw);
      case GgufValueType.INT32:
        return new Int32Array(raw);
      case GgufValueType.FLOAT32:
        return new Float32Array(raw);
      default:
        return new Float64Array(raw);
    }
  }
  value(type: GgufValueType, key: string, depth = 0): GgufValue {
    if (type === GgufValueType.STRING) return this.string(`value of ${key}`);
    if (type !== GgufValueType.ARRAY) return this.scalar(type);
    if (depth > 2) throw new SkiffError("bad-gguf", `GGUF is corrupt: arrays nested too deep in ${key}`);
    const elemType = this.u32(`element type of ${key}`) as GgufValueType;
    const count = this.u64(`length of ${key}`);
    // Every element takes at least one byte (a string at least eight), so a count beyond the file is a lie.
    const minSize = elemType === GgufValueType.STRING || elemType === GgufValueType.ARRAY ? 8 : 1;
    if (count * minSize > this.fileSize - this.pos) {
      throw new SkiffError(
        "bad-gguf",
        `GGUF is corrupt: array ${key} claims ${count} elements, more than the file holds`,
      );
    }
    if (elemType === GgufValueType.STRING) {
      const out: string[] = [];
      for (let i = 0; i < count; i++) out.push(this.string(`element ${i} of ${key}`));
      return out;
    }
    if (elemType === GgufValueType.ARRAY) {
      const out: GgufArray[] = [];
      for (let i = 0; i < count; i++) out.push(this.value(GgufValueType.ARRAY, key, depth + 1) as GgufArray);
      return out;
    }
    return this.typedArray(elemType, count);
  }
}

/** Parses the header from `prefix` (the file's first bytes); throws NeedMoreBytes if it is too short. */
export function parseGgufHeader(prefix: Uint8Array, fileSize: number): GgufHeader {
  const c = new Cursor(prefix, fileSize);
  if (fileSize < 24) throw new SkiffError("bad-gguf", `Not a GGUF file: only ${fileSize} bytes`);
  const magic = c.u32("magic");
  if (magic !== GGUF_MAGIC) {
    throw new SkiffError("bad-gguf", `Not a GGUF file: magic is 0x${magic.toString(16)}, expected "GGUF"`);
  }
  const version = c.u32("version");
  if (version === 0x03000000 || version === 0x02000000) {
    throw new SkiffError("bad-gguf", "This GGUF is big-endian; Skiff reads little-endian GGUF files only");
  }
  if (version !== 2 && version !== 3) {
    throw new SkiffError("bad-gguf", `GGUF version ${version} is not supported (Skiff reads versions 2 and 3)`);
  }
  const tensorCount = c.u64("tensor count");
  const kvCount = c.u64("metadata count");
  // A KV takes at least 8+1+4 bytes and a tensor info at least 8+1+4+8+4+8.
  if (kvCount * 13 > fileSize || tensorCount * 33 > fileSize) {
    throw new SkiffError(
      "bad-gguf",
      `GGUF is corrupt: ${kvCount} metadata entries and ${tensorCount} tensors cannot fit in ${fileSize} bytes`,
    );
  }
  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < kvCount; i++) {
    const key = c.string(`metadata key ${i}`);
    const type = c.u32(`type of ${key}`) as GgufValueType;
    if (metadata.has(key)) throw new SkiffError("bad-gguf", `GGUF is corrupt: metadata key ${key} appears twice`);
    metadata.set(key, c.value(type, key));
  }
  const alignmentValue = metadata.get("general.alignment") ?? 32;
  const alignment = Number(alignmentValue);
  if (!Number.isInteger(alignment) || alignment < 1 || (alignment & (alignment - 1)) !== 0) {
    throw new SkiffError(
      "bad-gguf",
      `GGUF is corrupt: general.alignment ${String(alignmentValue)} is not a power of two`,
    );
  }
  const infos: { name: string; dims: number[]; type: number; relOffset: number }[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = c.string(`name of tensor ${i}`);
    const nDims = c.u32(`dimension count of ${name}`);
    if (nDims < 1 || nDims > MAX_DIMS) {
      throw new SkiffError(
        "bad-gguf",
        `GGUF is corrupt: tensor ${name} has ${nDims} dimensions (1 to ${MAX_DIMS} allowed)`,
      );
    }
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(c.u64(`dimension ${d} of ${name}`));
    const type = c.u32(`type of ${name}`);
    const relOffset = c.u64(`offset of ${name}`);
    infos.push({ name, dims, type, relOffset });
  }
  const dataOffset = Math.ceil(c.pos / alignment) * alignment;
  const seen = new Set<string>();
  const tensors = infos.map(({ name, dims, type, relOffset }) => {
    if (seen.has(name)) throw new SkiffError("bad-gguf", `GGUF is corrupt: tensor ${name} appears twice`);
    seen.add(name);
    const info = ggmlType(type);
    if (!info) throw new SkiffError("unsupported-type", `Tensor ${name} has unknown ggml type ${type}`);
    if (dims.some((d) => d < 1))
      throw new SkiffError("bad-gguf", `GGUF is corrupt: tensor ${name} has an empty dimension`);
    if (dims[0] % info.blockSize !== 0) {
      throw new SkiffError(
        "bad-gguf",
        `GGUF is corrupt: tensor ${name} (${ggmlTypeName(type)}) has rows of ${dims[0]}, not a multiple of ${info.blockSize}`,
      );
    }
    const elements = dims.reduce((a, b) => a * b, 1);
    const byteSize = (elements / info.blockSize) * info.typeSize;
    if (relOffset % alignment !== 0) {
      throw new SkiffError(
        "bad-gguf",
        `GGUF is corrupt: tensor ${name} offset ${relOffset} is not aligned to ${alignment}`,
      );
    }
    const offset = dataOffset + relOffset;
    if (!Number.isSafeInteger(byteSize) || offset + byteSize > fileSize) {
      throw new SkiffError(
        "bad-gguf",
        `GGUF is truncated: tensor ${name} needs bytes ${offset}..${offset + byteSize} but the file has ${fileSize}`,
      );
    }
    return { name, dims, type, offset, byteSize };
  });
  return { version, alignment, metadata, tensors, dataOffset, fileSize };
}

/** Reads a GGUF header from a Blob (a File too), growing the prefix until the header fits. */
export async function readGgufHeader(blob: Blob, firstRead = 1 << 20): Promise<GgufHeader> {
  let length = Math.min(blob.size, firstRead);
  for (;;) {
    const prefix = new Uint8Array(await blob.slice(0, length).arrayBuffer());
    try {
      return parseGgufHeader(prefix, blob.size);
    } catch (e) {
      if (!(e instanceof NeedMoreBytes)) throw e;
      length = Math.min(blob.size, Math.max(length * 2, e.wanted));
    }
  }
}

/** Typed metadata accessors that name the missing or mistyped key. */
export function metaNumber(h: GgufHeader, key: string, fallback?: number): number {
  const v = h.metadata.get(key);
  if (v === undefined) {
    if (fallback !== undefined) return fallback;
    throw new SkiffError("bad-gguf", `GGUF metadata ${key} is missing`);
  }
  if (typeof v !== "number") throw new SkiffError("bad-gguf", `GGUF metadata ${key} should be a number`);
  return v;
}

export function metaString(h: GgufHeader, key: string, fallback?: string): string {
  const v = h.metadata.get(key);
  if (v === undefined) {
    if (fallback !== undefined) return fallback;
    throw new SkiffError("bad-gguf", `GGUF metadata ${key} is missing`);
  }
  if (typeof v !== "string") throw new SkiffError("bad-gguf", `GGUF metadata ${key} should be a string`);
  return v;
}

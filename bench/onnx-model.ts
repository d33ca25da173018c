// A tiny ONNX protobuf writer and the one-node models the onnxruntime-web peer runs (MatMul, MatMulNBits), with
// the weight as an initializer so it lives on the GPU for the whole session. Field numbers are from onnx.proto.

/** Protobuf wire types. */
const VARINT = 0;
const LEN = 2;

/** TensorProto.DataType values. */
export const ONNX_FLOAT = 1;
export const ONNX_UINT8 = 2;

/** AttributeProto.AttributeType values. */
const ATTR_INT = 2;

/** One protobuf message being written: parts are kept apart so a 64 MiB initializer is copied only once. */
class ProtoWriter {
  readonly parts: Uint8Array[] = [];
  length = 0;

  private push(bytes: Uint8Array): void {
    this.parts.push(bytes);
    this.length += bytes.length;
  }

  private key(field: number, wire: number): void {
    this.push(varint(field * 8 + wire));
  }

  /** int32/int64/enum field; numbers stay below 2^53, so plain arithmetic encodes them. */
  int(field: number, value: number): this {
    this.key(field, VARINT);
    this.push(varint(value));
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.key(field, LEN);
    this.push(varint(data.length));
    this.push(data);
    return this;
  }

  string(field: number, text: string): this {
    return this.bytes(field, new TextEncoder().encode(text));
  }

  message(field: number, inner: ProtoWriter): this {
    this.key(field, LEN);
    this.push(varint(inner.length));
    for (const p of inner.parts) this.push(p);
    return this;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

function varint(value: number): Uint8Array {
  if (!(Number.isSafeInteger(value) && value >= 0)) throw new Error(`varint: ${value} is not a non-negative integer`);
  const bytes: number[] = [];
  let v = value;
  while (v >= 0x80) {
    bytes.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  bytes.push(v);
  return Uint8Array.from(bytes);
}

export interface OnnxTensor {
  name: string;
  dataType: number;
  dims: number[];
  data: ArrayBufferView;
}

export interface OnnxNode {
  opType: string;
  domain?: string;
  inputs: string[];
  outputs: string[];
  intAttributes?: Record<string, number>;
}

export interface OnnxValue {
  name: string;
  dataType: number;
  dims: number[];
}

export interface OnnxGraph {
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValue[];
  outputs: OnnxValue[];
  /** Operator sets by domain ("" is the standard one). */
  opsets: Record<string, number>;
}

// TensorProto: dims=1, data_type=2, name=8, raw_data=9.
function tensorProto(t: OnnxTensor): ProtoWriter {
  const w = new ProtoWriter();
  for (const d of t.dims) w.int(1, d);
  w.int(2, t.dataType).string(8, t.name);
  return w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

// ValueInfoProto{name=1, type=2} > TypeProto{tensor_type=1} > Tensor{elem_type=1, shape=2} > TensorShapeProto{dim=1}
// > Dimension{dim_value=1}.
function valueInfoProto(v: OnnxValue): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.dims) shape.message(1, new ProtoWriter().int(1, d));
  const tensorType = new ProtoWriter().int(1, v.dataType).message(2, shape);
  return new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tensorType));
}

// NodeProto: input=1, output=2, name=3, op_type=4, attribute=5, domain=7.
// AttributeProto: name=1, i=3, type=20.
function nodeProto(n: OnnxNode, index: number): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, `${n.opType.toLowerCase()}_${index}`).string(4, n.opType);
  for (const [name, value] of Object.entries(n.intAttributes ?? {})) {
    w.message(5, new ProtoWriter().string(1, name).int(3, value).int(20, ATTR_INT));
  }
  if (n.domain) w.string(7, n.domain);
  return w;
}

/** ModelProto bytes: ir_version=1, producer_name=2, graph=7, opset_import=8 (OperatorSetIdProto{domain=1, version=2}).
 *  GraphProto: node=1, name=2, initializer=5, input=11, output=12. */
export function encodeModel(g: OnnxGraph): Uint8Array {
  const graph = new ProtoWriter();
  g.nodes.forEach((n, i) => graph.message(1, nodeProto(n, i)));
  graph.string(2, "skiff-bench");
  for (const t of g.initializers) graph.message(5, tensorProto(t));
  for (const v of g.inputs) graph.message(11, valueInfoProto(v));
  for (const v of g.outputs) graph.message(12, valueInfoProto(v));
  const model = new ProtoWriter().int(1, 8).string(2, "skiff-bench").message(7, graph);
  for (const [domain, version] of Object.entries(g.opsets)) {
    const opset = new ProtoWriter();
    if (domain) opset.string(1, domain);
    model.message(8, opset.int(2, version));
  }
  return model.finish();
}

/** y(m, n) = a(m, k) @ b(k, n), with b an f32 initializer. */
export function matMulModel(m: number, k: number, n: number, b: Float32Array): Uint8Array {
  if (b.length !== k * n) throw new Error(`MatMul weight has ${b.length} values, k*n = ${k * n}`);
  return encodeModel({
    nodes: [{ opType: "MatMul", inputs: ["a", "b"], outputs: ["y"] }],
    initializers: [{ name: "b", dataType: ONNX_FLOAT, dims: [k, n], data: b }],
    inputs: [{ name: "a", dataType: ONNX_FLOAT, dims: [m, k] }],
    outputs: [{ name: "y", dataType: ONNX_FLOAT, dims: [m, n] }],
    opsets: { "": 17 },
  });
}

export interface NBitsWeight {
  bits: number;
  blockSize: number;
  /** (n, k / blockSize, blockSize * bits / 8) packed codes, two 4-bit codes per byte, low nibble first. */
  packed: Uint8Array;
  /** (n * k / blockSize) f32 scales; the zero point is the default (8 for 4 bits, 128 for 8 bits). */
  scales: Float32Array;
}

/** y(m, n) = a(m, k) @ dequant(b)ᵀ with com.microsoft MatMulNBits; `accuracyLevel` 4 lets ORT use int8 dot products. */
export function matMulNBitsModel(m: number, k: number, n: number, w: NBitsWeight, accuracyLevel = 0): Uint8Array {
  const blocks = k / w.blockSize;
  const blob = (w.blockSize * w.bits) / 8;
  if (!Number.isInteger(blocks) || w.packed.length !== n * blocks * blob || w.scales.length !== n * blocks) {
    throw new Error(`MatMulNBits weight does not match n=${n}, k=${k}, bits=${w.bits}, blockSize=${w.blockSize}`);
  }
  return encodeModel({
    nodes: [
      {
        opType: "MatMulNBits",
        domain: "com.microsoft",
        inputs: ["a", "b", "scales"],
        outputs: ["y"],
        intAttributes: { K: k, N: n, bits: w.bits, block_size: w.blockSize, accuracy_level: accuracyLevel },
      },
    ],
    initializers: [
      { name: "b", dataType: ONNX_UINT8, dims: [n, blocks, blob], data: w.packed },
      { name: "scales", dataType: ONNX_FLOAT, dims: [n * blocks], data: w.scales },
    ],
    inputs: [{ name: "a", dataType: ONNX_FLOAT, dims: [m, k] }],
    outputs: [{ name: "y", dataType: ONNX_FLOAT, dims: [m, n] }],
    opsets: { "": 17, "com.microsoft": 1 },
  });
}

/** Random NBits codes and small positive scales: the values do not matter for timing, only the bytes read. */
export function randomNBitsWeight(
  k: number,
  n: number,
  bits: number,
  blockSize: number,
  random: () => number,
): NBitsWeight {
  const blocks = k / blockSize;
  const packed = new Uint8Array((n * blocks * blockSize * bits) / 8);
  for (let i = 0; i < packed.length; i++) packed[i] = (random() * 256) | 0;
  const scales = new Float32Array(n * blocks);
  for (let i = 0; i < scales.length; i++) scales[i] = 0.001 + random() * 0.01;
  return { bits, blockSize, packed, scales };
}

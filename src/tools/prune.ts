// `skiff prune` as a library: a Llama-family GGUF in, a GGUF out whose chosen linear weights (FFN gate/up/down,
// attention q/k/v/o; never the embedding or the classifier) have an exact N:M zero pattern along their input
// dimension, re-encoded in their own type. GGUF has no sparse type, so the zeros are written out; everything else
// is the input byte for byte (same header, same offsets), and import finds the pattern again.
import { SkiffError } from "../errors.ts";
import { metaNumber, parseGgufHeader, type GgufTensorInfo } from "../loaders/gguf.ts";
import { llamaConfigFromGguf, llamaTensorMap } from "../loaders/gguf-llama.ts";
import { dequantize, quantize, type WeightType } from "../loaders/ggml-quants.ts";
import { WEIGHT_TYPE_IDS, ggmlType, ggmlTypeName, weightTypeOf } from "../loaders/ggml-types.ts";
import { ReferenceLlama } from "../reference/forward.ts";
import { referenceWeightsFromGguf } from "../reference/gguf-weights.ts";
import { parsePattern, type NMPattern } from "../loaders/sparse-nm.ts";
import { countZeros, pruneNM } from "./nm-select.ts";
import { inputGrams, pruneSparseGpt } from "./sparsegpt.ts";
import {
  CALIBRATION_LENGTH,
  checkCalibrationIds,
  defaultCalibrationIds,
  inputNorms,
  type LinearRole,
} from "./wanda.ts";

export const PRUNE_METHODS = ["magnitude", "wanda", "sparsegpt"] as const;
export type PruneMethod = (typeof PRUNE_METHODS)[number];

/** The linear layers each `--tensors` group prunes. */
export const PRUNE_GROUPS = {
  ffn: ["wGate", "wUp", "wDown"],
  attn: ["wq", "wk", "wv", "wo"],
  all: ["wq", "wk", "wv", "wo", "wGate", "wUp", "wDown"],
} as const satisfies Record<string, readonly LinearRole[]>;
export type PruneGroup = keyof typeof PRUNE_GROUPS;

export interface PruneOptions {
  /** "2:4", "1:4", "2:8" or "4:8" (the patterns sparse-nm.ts runs): N weights kept in every M inputs of a row. */
  pattern: string;
  /** Score: |w| (magnitude, the default) or |w| * ||X_j|| over calibration tokens (wanda); or SparseGPT, which
   *  picks by w^2 / [H^-1]_jj and updates the kept weights (H = sum x x^T over calibration tokens). */
  method?: PruneMethod;
  /** Which linear layers to prune (default all). */
  tensors?: PruneGroup;
  /** Wanda and SparseGPT: token id sequences, each fed from position 0; default: defaultCalibrationIds (wanda.ts). */
  calibrationIds?: number[][];
}

export interface PrunedTensor {
  name: string;
  /** ggml type name, unchanged by pruning ("F32", "Q4_0", ...). */
  type: string;
  rows: number;
  cols: number;
  /** Exact zeros after pruning (re-quantizing can round a kept weight to zero too). */
  zeros: number;
}

export interface PruneResult {
  bytes: Uint8Array;
  pattern: NMPattern;
  method: PruneMethod;
  tensors: PrunedTensor[];
  /** Tokens the activation statistics (Wanda's norms, SparseGPT's H) were gathered over; 0 for magnitude. */
  calibrationTokens: number;
}

/** The pruned GGUF's bytes; see pruneModel. */
export function pruneGguf(bytes: Uint8Array, options: PruneOptions): Uint8Array {
  return pruneModel(bytes, options).bytes;
}

/**
 * Prunes every selected tensor of the GGUF in `bytes`. Wanda and SparseGPT go layer by layer, as their reference
 * code does: layer l's statistics are gathered with layers before l already pruned and re-quantized. Refuses,
 * before any work: bad options ("bad-argument"), a selected tensor whose rows are not whole groups of M
 * ("bad-shape"), and a selected tensor whose type cannot be re-written with its pruned weights at exactly zero
 * ("unsupported-type": K-quants, which have no quantizer here, and the offset types Q4_1/Q5_1, whose zero is not
 * on the grid).
 */
export function pruneModel(bytes: Uint8Array, options: PruneOptions): PruneResult {
  const { pattern, method, roles } = checkOptions(options);
  const header = parseGgufHeader(bytes, bytes.byteLength);
  const config = llamaConfigFromGguf(header);
  const map = llamaTensorMap(header, config);
  const given = options.calibrationIds && checkCalibrationIds(options.calibrationIds, config.vocabSize, config.seqLen);
  const targets = map.layers.map((layer) =>
    roles.map((role) => ({ role, info: layer[role], type: checkTarget(layer[role], pattern) })),
  );
  const out = bytes.slice();
  let model: ReferenceLlama | undefined;
  let ids: number[][] = [];
  if (method !== "magnitude") {
    const { weights } = referenceWeightsFromGguf(bytes);
    const capacity = given ? Math.max(...given.map((s) => s.length)) : Math.min(CALIBRATION_LENGTH, config.seqLen);
    model = new ReferenceLlama(config, weights, capacity);
    ids = given ?? defaultCalibrationIds(model, metaNumber(header, "tokenizer.ggml.bos_token_id", 1));
  }
  const tensors: PrunedTensor[] = [];
  targets.forEach((layerTargets, l) => {
    const norms = method === "wanda" && model ? inputNorms(model, l, ids) : undefined;
    const grams = method === "sparsegpt" && model ? inputGrams(model, l, ids, roles) : undefined;
    for (const { role, info, type } of layerTargets) {
      const cols = info.dims[0];
      const rows = info.dims.reduce((a, b) => a * b, 1) / cols;
      const gram = grams?.[role];
      const prune: PruneValues = gram
        ? (w) => pruneSparseGpt(w, rows, cols, pattern, gram)
        : (w) => pruneNM(w, rows, cols, pattern, norms?.[role]);
      const values = pruneTensor(bytes, out, info, type, prune);
      // What later layers' statistics see is this layer as it will be run: pruned and re-quantized.
      model?.weights.layers[l][role].set(values);
      tensors.push({ name: info.name, type: ggmlTypeName(info.type), rows, cols, zeros: countZeros(values) });
    }
  });
  return { bytes: out, pattern, method, tensors, calibrationTokens: ids.reduce((a, s) => a + s.length, 0) };
}

function checkOptions(o: PruneOptions): { pattern: NMPattern; method: PruneMethod; roles: readonly LinearRole[] } {
  const pattern = parsePattern(String(o.pattern));
  const method = o.method ?? "magnitude";
  if (!PRUNE_METHODS.includes(method)) {
    throw new SkiffError("bad-argument", `unknown pruning method "${method}" (Skiff has: ${PRUNE_METHODS.join(", ")})`);
  }
  const group = o.tensors ?? "all";
  if (!Object.hasOwn(PRUNE_GROUPS, group)) {
    throw new SkiffError(
      "bad-argument",
      `unknown tensor group "${group}" (Skiff prunes: ${Object.keys(PRUNE_GROUPS).join(", ")})`,
    );
  }
  if (o.calibrationIds !== undefined && method === "magnitude") {
    throw new SkiffError("bad-argument", `calibration ids only apply to --method wanda or sparsegpt, not ${method}`);
  }
  return { pattern, method, roles: PRUNE_GROUPS[group] };
}

/** The tensor's weight type, once it is known to be prunable to `pattern` in that type. */
function checkTarget(t: GgufTensorInfo, pattern: NMPattern): WeightType {
  const type = weightTypeOf(t.type);
  if (!type) {
    throw new SkiffError("unsupported-type", `Tensor ${t.name} is ${ggmlTypeName(t.type)}, which Skiff cannot read`);
  }
  const why = zeroProblem(type);
  if (why) {
    throw new SkiffError(
      "unsupported-type",
      `Tensor ${t.name} is ${ggmlTypeName(t.type)}: ${why}, so it cannot be pruned in its own type`,
    );
  }
  if (t.dims[0] % pattern.m !== 0) {
    throw new SkiffError(
      "bad-shape",
      `Tensor ${t.name} has rows of ${t.dims[0]} (shape [${t.dims}]), not whole groups of ${pattern.m} for ${pattern.n}:${pattern.m}`,
    );
  }
  return type;
}

const zeroProblems = new Map<WeightType, string>();

/** Why `type` cannot hold pruned weights at exact zero ("" when it can): a probe block of mixed signs and zeros
 *  is quantized and read back. Symmetric codes (Q8_0, Q4_0, Q5_0) map 0 to code 0 exactly; Q4_1/Q5_1 do not. */
function zeroProblem(type: WeightType): string {
  let problem = zeroProblems.get(type);
  if (problem !== undefined) return problem;
  const block = ggmlType(WEIGHT_TYPE_IDS[type])?.blockSize ?? 1;
  const probe = Float64Array.from({ length: Math.ceil(8 / block) * block }, (_, i) =>
    i % 2 ? 0 : (i % 4 ? -1 : 1) * (1 + i / 64),
  );
  try {
    const back = dequantize(type, quantize(type, probe), probe.length);
    problem = probe.every((v, i) => v !== 0 || back[i] === 0) ? "" : "its quantizer does not keep zeros exactly zero";
  } catch (e) {
    if (!(e instanceof SkiffError)) throw e;
    problem = "Skiff has no quantizer for it";
  }
  zeroProblems.set(type, problem);
  return problem;
}

/** Prunes a tensor's values (rows x cols) in place; returns the keep mask (1 = kept, 0 = now exactly zero). */
type PruneValues = (w: Float64Array) => Uint8Array;

/** Prunes one tensor of `src` into `out` at the same offset; returns its values as they now read back. */
function pruneTensor(
  src: Uint8Array,
  out: Uint8Array,
  t: GgufTensorInfo,
  type: WeightType,
  prune: PruneValues,
): Float64Array {
  const count = t.dims.reduce((a, b) => a * b, 1);
  const values = dequantize(type, src.subarray(t.offset, t.offset + t.byteSize), count);
  const keep = prune(values);
  const encoded = quantize(type, values);
  const back = dequantize(type, encoded, count);
  // The probe said zeros survive; this is the guarantee for every weight of this tensor.
  const lost = keep.findIndex((k, i) => !k && back[i] !== 0);
  if (lost >= 0 || encoded.byteLength !== t.byteSize) {
    throw new SkiffError(
      "unsupported-type",
      `Tensor ${t.name} (${ggmlTypeName(t.type)}) did not re-quantize cleanly: pruned weight ${lost} reads back as ${back[lost]}`,
    );
  }
  out.set(encoded, t.offset);
  return back;
}

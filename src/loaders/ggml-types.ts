// ggml tensor type ids with their block geometry (ggml.h / ggml-common.h), and which ones Skiff runs.
import type { WeightType } from "./ggml-quants.ts";

export interface GgmlTypeInfo {
  id: number;
  name: string;
  /** Elements per block (1 for plain floats). */
  blockSize: number;
  /** Bytes per block. */
  typeSize: number;
}

const TABLE: GgmlTypeInfo[] = [
  { id: 0, name: "F32", blockSize: 1, typeSize: 4 },
  { id: 1, name: "F16", blockSize: 1, typeSize: 2 },
  { id: 2, name: "Q4_0", blockSize: 32, typeSize: 18 },
  { id: 3, name: "Q4_1", blockSize: 32, typeSize: 20 },
  { id: 6, name: "Q5_0", blockSize: 32, typeSize: 22 },
  { id: 7, name: "Q5_1", blockSize: 32, typeSize: 24 },
  { id: 8, name: "Q8_0", blockSize: 32, typeSize: 34 },
  { id: 9, name: "Q8_1", blockSize: 32, typeSize: 36 },
  { id: 10, name: "Q2_K", blockSize: 256, typeSize: 84 },
  { id: 11, name: "Q3_K", blockSize: 256, typeSize: 110 },
  { id: 12, name: "Q4_K", blockSize: 256, typeSize: 144 },
  { id: 13, name: "Q5_K", blockSize: 256, typeSize: 176 },
  { id: 14, name: "Q6_K", blockSize: 256, typeSize: 210 },
  { id: 15, name: "Q8_K", blockSize: 256, typeSize: 292 },
  { id: 16, name: "IQ2_XXS", blockSize: 256, typeSize: 66 },
  { id: 17, name: "IQ2_XS", blockSize: 256, typeSize: 74 },
  { id: 18, name: "IQ3_XXS", blockSize: 256, typeSize: 98 },
  { id: 19, name: "IQ1_S", blockSize: 256, typeSize: 50 },
  { id: 20, name: "IQ4_NL", blockSize: 32, typeSize: 18 },
  { id: 21, name: "IQ3_S", blockSize: 256, typeSize: 110 },
  { id: 22, name: "IQ2_S", blockSize: 256, typeSize: 82 },
  { id: 23, name: "IQ4_XS", blockSize: 256, typeSize: 136 },
  { id: 24, name: "I8", blockSize: 1, typeSize: 1 },
  { id: 25, name: "I16", blockSize: 1, typeSize: 2 },
  { id: 26, name: "I32", blockSize: 1, typeSize: 4 },
  { id: 27, name: "I64", blockSize: 1, typeSize: 8 },
  { id: 28, name: "F64", blockSize: 1, typeSize: 8 },
  { id: 29, name: "IQ1_M", blockSize: 256, typeSize: 56 },
  { id: 30, name: "BF16", blockSize: 1, typeSize: 2 },
  { id: 34, name: "TQ1_0", blockSize: 256, typeSize: 54 },
  { id: 35, name: "TQ2_0", blockSize: 256, typeSize: 66 },
];

const BY_ID = new Map(TABLE.map((t) => [t.id, t]));

export const GGML_TYPE = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q5_1: 7,
  Q8_0: 8,
  Q4_K: 12,
  Q5_K: 13,
  Q6_K: 14,
} as const;

export function ggmlType(id: number): GgmlTypeInfo | undefined {
  return BY_ID.get(id);
}

export function ggmlTypeName(id: number): string {
  return BY_ID.get(id)?.name ?? `unknown type ${id}`;
}

/** ggml ids of the weight types the kernels read, and back. */
export const WEIGHT_TYPE_IDS: Record<WeightType, number> = {
  f32: GGML_TYPE.F32,
  f16: GGML_TYPE.F16,
  q8_0: GGML_TYPE.Q8_0,
  q4_0: GGML_TYPE.Q4_0,
  q4_1: GGML_TYPE.Q4_1,
  q5_0: GGML_TYPE.Q5_0,
  q5_1: GGML_TYPE.Q5_1,
  q4_k: GGML_TYPE.Q4_K,
  q5_k: GGML_TYPE.Q5_K,
  q6_k: GGML_TYPE.Q6_K,
};

export function weightTypeOf(id: number): WeightType | undefined {
  return (Object.keys(WEIGHT_TYPE_IDS) as WeightType[]).find((t) => WEIGHT_TYPE_IDS[t] === id);
}

/** ggml names of the types Skiff runs, for messages: "F32, F16, Q8_0, ...". */
export function runnableTypeNames(): string {
  return Object.values(WEIGHT_TYPE_IDS)
    .map((id) => ggmlTypeName(id))
    .join(", ");
}

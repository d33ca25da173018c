// The op table: graph op name -> launcher. A typed record, so an op the graph builder names but nobody
// implements is a compile error. Adapters only reshape arguments; all checking is in the launchers.
import type { GpuContext } from "../gpu/device.ts";
import type { ParamFields } from "../gpu/uniforms.ts";
import type { PreparedKernel } from "./dispatch.ts";
import { embedding, type EmbeddingArgs } from "./embedding.ts";
import { rmsNorm, type RmsNormArgs } from "./rms-norm.ts";
import { gemv } from "./gemv.ts";
import { gemm, type GemmArgs } from "./gemm.ts";
import { sparseMatmul, type SparseMatmulArgs } from "./sparse-matmul.ts";
import { isSparseWeight } from "./sparse-weights.ts";
import { rope, type RopeArgs } from "./rope.ts";
import { kvCacheWrite, type KvCacheLayer, type KvCacheShape } from "./kv-cache.ts";
import { attentionDecode } from "./attention-decode.ts";
import { attentionPrefill } from "./attention-prefill.ts";
import { add, type AddArgs } from "./add.ts";
import { biasAdd, type BiasAddArgs } from "./bias-add.ts";
import { swiglu, type SwigluArgs } from "./swiglu.ts";
import { argmax, type ArgmaxArgs } from "./argmax.ts";
import { sample, type SampleArgs, type Sampler } from "./sample.ts";
import { repetitionPenalty, type RepetitionPenaltyArgs } from "./repetition-penalty.ts";
import { ffnPlan, type FfnPlanArgs } from "./ffn-plan.ts";
import { ffnResidual, type FfnResidualArgs } from "./ffn-residual.ts";
import type { Binding } from "./dispatch.ts";

export type OpName =
  | "embedding"
  | "rmsNorm"
  | "matmul"
  | "rope"
  | "kvCacheWrite"
  | "attentionDecode"
  | "attentionPrefill"
  | "add"
  | "biasAdd"
  | "swiglu"
  | "argmax"
  | "repetitionPenalty"
  | "sample"
  | "ffnPlan"
  | "ffnResidual";

type Launcher = (ctx: GpuContext, args: Record<string, unknown>) => Promise<PreparedKernel<ParamFields>>;
type Args = Record<string, unknown>;

/** Graph nodes carry the cache shape as three numbers; launchers take it as one object. */
function kvShape(a: Args): KvCacheShape {
  return { nKvHeads: a.nKvHeads as number, capacity: a.capacity as number, headSize: a.headSize as number };
}

const widen = <A>(f: (ctx: GpuContext, a: A) => Promise<unknown>): Launcher => f as unknown as Launcher;

export const opTable: Record<OpName, Launcher> = {
  embedding: widen((ctx, a: EmbeddingArgs) => embedding(ctx, a)),
  rmsNorm: widen((ctx, a: RmsNormArgs) => rmsNorm(ctx, a)),
  // One token reads each weight once (GEMV); more tokens share the weight reads (register-tiled GEMM). A pruned
  // weight stored N:M-compressed at import runs the sparse kernels.
  matmul: widen((ctx, a: GemmArgs | SparseMatmulArgs) => {
    if (isSparseWeight(a.weight)) return sparseMatmul(ctx, a as SparseMatmulArgs);
    const dense = a as GemmArgs;
    return dense.m === 1 ? gemv(ctx, dense) : gemm(ctx, dense);
  }),
  rope: widen((ctx, a: RopeArgs) => rope(ctx, a)),
  kvCacheWrite: widen((ctx, a: Args) =>
    kvCacheWrite(ctx, {
      k: a.k as Binding,
      v: a.v as Binding,
      cache: a.cache as KvCacheLayer,
      shape: kvShape(a),
      nTokens: a.nTokens as number,
      startPos: a.startPos as number,
    }),
  ),
  attentionDecode: widen((ctx, a: Args) =>
    attentionDecode(ctx, {
      q: a.q as Binding,
      cache: a.cache as KvCacheLayer,
      shape: kvShape(a),
      out: a.out as Binding,
      nHeads: a.nHeads as number,
      pos: a.pos as number,
    }),
  ),
  attentionPrefill: widen((ctx, a: Args) =>
    attentionPrefill(ctx, {
      q: a.q as Binding,
      cache: a.cache as KvCacheLayer,
      shape: kvShape(a),
      out: a.out as Binding,
      nHeads: a.nHeads as number,
      nTokens: a.nTokens as number,
      startPos: a.startPos as number,
    }),
  ),
  add: widen((ctx, a: AddArgs) => add(ctx, a)),
  biasAdd: widen((ctx, a: BiasAddArgs) => biasAdd(ctx, a)),
  swiglu: widen((ctx, a: SwigluArgs) => swiglu(ctx, a)),
  argmax: widen((ctx, a: ArgmaxArgs) => argmax(ctx, a)),
  repetitionPenalty: widen((ctx, a: RepetitionPenaltyArgs) => repetitionPenalty(ctx, a)),
  // Settings are written per generation with `update(samplerParams(...))`; these are placeholders until then.
  sample: widen((ctx, a: Omit<SampleArgs, keyof Sampler>) =>
    sample(ctx, { temperature: 1, topK: 0, topP: 1, seed: 0, step: 0, ...a }),
  ),
  // The plan's policy is written per generation with `update`; the graph gives placeholders.
  ffnPlan: widen((ctx, a: FfnPlanArgs) => ffnPlan(ctx, a)),
  ffnResidual: widen((ctx, a: FfnResidualArgs) => ffnResidual(ctx, a)),
};

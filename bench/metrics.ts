// Derived numbers: FLOPs and bytes of each case, GFLOP/s, GB/s and the fraction of the copy shader's bandwidth for
// every contender, and the headline ratios (bench/cases.json "ratios") with their targets.
import type { BenchCase, CaseResult, ContenderResult, CopyResult, RatioResult, RatioSpec } from "./types.ts";

/** 2·M·N·K for a matmul; attention counts QKᵀ and PV: 4·nHeads·headSize per (query, key) pair, causal for prefill. */
export function caseFlops(c: BenchCase): number {
  if (c.op === "matmul") return 2 * c.m * c.n * c.k;
  const pairs = c.op === "attention-decode" ? c.seqLen : (c.seqLen * (c.seqLen + 1)) / 2;
  return 4 * c.nHeads * c.headSize * pairs;
}

export function caseTitle(c: BenchCase): string {
  if (c.op === "matmul") {
    const kind = c.m === 1 ? "GEMV" : "GEMM";
    return `${kind} ${c.m}x${c.k}x${c.n} ${c.type.toUpperCase()}${c.sparsity ? ` ${c.sparsity} sparse` : ""}`;
  }
  const heads = `${c.nHeads}q/${c.nKvHeads}kv heads x ${c.headSize}`;
  return c.op === "attention-decode"
    ? `attention decode, context ${c.seqLen}, ${heads}`
    : `attention prefill, ${c.seqLen} tokens, ${heads}`;
}

/** Fills GFLOP/s, GB/s and copy fractions from the medians (wall and, where present, GPU timestamps). */
export function addMetrics(r: ContenderResult, flops: number, copy: CopyResult): void {
  if (r.wall) {
    r.gflops = flops / r.wall.medianMs / 1e6;
    r.gbps = r.weightBytes / r.wall.medianMs / 1e6;
    if (copy.gbps) r.copyFraction = r.gbps / copy.gbps;
  }
  if (r.gpu) {
    r.gpuGflops = flops / r.gpu.medianMs / 1e6;
    r.gpuGbps = r.weightBytes / r.gpu.medianMs / 1e6;
    if (copy.gpuGbps) r.gpuCopyFraction = r.gpuGbps / copy.gpuGbps;
  }
}

function fastest(list: ContenderResult[]): ContenderResult | undefined {
  const timed = list.filter((c) => c.wall && !c.error);
  return timed.sort((a, b) => a.wall!.medianMs - b.wall!.medianMs)[0];
}

/** The Skiff contender the runtime would use here: the default variant, else the only one (in a sparse case, of
 *  the sparse kernels, or with `baseline` of their dense baseline). */
export function skiffDefault(cr: CaseResult, baseline = false): ContenderResult | undefined {
  const skiff = cr.contenders.filter(
    (c) => c.family === "skiff" && c.wall && !c.error && !c.floor && !c.baseline === !baseline,
  );
  return skiff.find((c) => c.isDefault) ?? (skiff.length === 1 ? skiff[0] : undefined);
}

/** The arithmetic floor of the default Skiff kernel (of the sparse kernels in a sparse case), where timed. */
function skiffFloor(cr: CaseResult): ContenderResult | undefined {
  return cr.contenders.find((c) => c.floor && c.wall && !c.error && !c.baseline);
}

const ms = (c: ContenderResult) => `${c.name} ${c.wall!.medianMs.toFixed(2)} ms`;

export function computeRatio(spec: RatioSpec, cases: CaseResult[], copy: CopyResult): RatioResult {
  const cr = cases.find((c) => c.id === spec.case);
  const skiff = cr && skiffDefault(cr);
  if (!cr || !skiff) return { ...spec, detail: `no timed Skiff result for case ${spec.case}` };
  const ratio = ratioOf(spec, cr, skiff, copy);
  const floor = skiffFloor(cr);
  const bound = floor && ratioOf(spec, cr, floor, copy);
  if (!bound?.value) return ratio;
  return { ...ratio, floor: { value: bound.value, met: bound.value >= spec.target, detail: bound.detail } };
}

/** The ratio with `skiff` as Skiff's side. */
function ratioOf(spec: RatioSpec, cr: CaseResult, skiff: ContenderResult, copy: CopyResult): RatioResult {
  if (spec.against === "copy") {
    if (!skiff.copyFraction || !copy.gbps) return { ...spec, detail: "no copy-shader bandwidth measured" };
    const gpu = skiff.gpuCopyFraction ? `; by GPU timestamps ${(skiff.gpuCopyFraction * 100).toFixed(0)}%` : "";
    return {
      ...spec,
      value: skiff.copyFraction,
      met: skiff.copyFraction >= spec.target,
      detail:
        `${skiff.name} ${skiff.gbps!.toFixed(2)} GB/s of weights vs copy ${copy.gbps.toFixed(2)} GB/s ` +
        `(wall clock)${gpu}`,
    };
  }
  if (spec.against === "dense") {
    const dense = skiffDefault(cr, true);
    if (!dense) return { ...spec, detail: `no timed dense baseline in case ${spec.case}` };
    const value = dense.wall!.medianMs / skiff.wall!.medianMs;
    return { ...spec, value, met: value >= spec.target, detail: `${ms(skiff)} vs ${ms(dense)}` };
  }
  const peer = fastest(cr.contenders.filter((c) => c.family === spec.against));
  if (!peer) return { ...spec, detail: `no timed ${spec.against} result for case ${spec.case}` };
  const value = peer.wall!.medianMs / skiff.wall!.medianMs;
  return { ...spec, value, met: value >= spec.target, detail: `${ms(skiff)} vs fastest ${ms(peer)}` };
}

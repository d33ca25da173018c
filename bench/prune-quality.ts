// What N:M pruning costs in quality on a small real model (stories260K), measured with the float64 reference model:
// greedy agreement with the dense model (share of identical tokens over seeded prompts) and the mean KL divergence
// of next-token distributions, dense || pruned, teacher-forced on the dense continuation. Runs in Node through
// Vite's SSR loader (bench/run-prune-quality.mjs); formatReport gives bench/results/prune-quality-<date>.md.
import { metaNumber, parseGgufHeader } from "../src/loaders/gguf.ts";
import { ReferenceLlama, greedyReference } from "../src/reference/forward.ts";
import { argmax } from "../src/reference/ops.ts";
import { referenceWeightsFromGguf } from "../src/reference/gguf-weights.ts";
import { pruneModel, type PruneGroup, type PruneMethod } from "../src/tools/prune.ts";
import { CALIBRATION_LENGTH, CALIBRATION_SEQUENCES, sampleSequences } from "../src/tools/wanda.ts";
import { dash, fixed, num, percent, row } from "./table-format.ts";

export interface PruneQualityCase {
  pattern: string;
  method: PruneMethod;
  tensors: PruneGroup;
  /** Wanda and SparseGPT: this many sequences of this many tokens sampled from the dense model (seeded), instead
   *  of the tool's default calibration set. */
  calibration?: { sequences: number; length: number };
}

export interface PruneQualityOptions {
  prompts: number;
  /** Tokens after BOS in each prompt, sampled from the dense model at temperature 1 (seeded). */
  promptTokens: number;
  /** Greedy tokens generated (and teacher-forced) after each prompt. */
  generate: number;
  seed: number;
  cases: PruneQualityCase[];
}

export interface PruneQualityRow extends PruneQualityCase {
  /** Share of generated tokens equal to the dense model's at the same position. */
  agreement: number;
  /** Mean count of generated tokens before the first that differs from the dense model's. */
  meanFirstDivergence: number;
  /** Share of prompts whose whole continuation equals the dense one. */
  identicalContinuations: number;
  /** Share of teacher-forced positions where the pruned model's argmax is the dense model's (its greedy token). */
  forcedTop1: number;
  /** Mean over every teacher-forced position of KL(dense || pruned) in nats, and its largest value. */
  meanKl: number;
  maxKl: number;
  /** Zeros among the pruned tensors' weights, and the pruned weights' share of all linear-layer weights. */
  zeroShare: number;
  linearShare: number;
  calibrationTokens: number;
  seconds: number;
}

export interface PruneQualityResults {
  date: string;
  model: string;
  options: Omit<PruneQualityOptions, "cases">;
  calibration: string;
  /** Mean entropy (nats) of the dense model's next-token distributions over the same positions: KL's scale. */
  denseEntropy: number;
  rows: PruneQualityRow[];
}

const METHODS = ["magnitude", "wanda", "sparsegpt"] as const;
const CALIBRATED = ["wanda", "sparsegpt"] as const;

/** 2:4 on the FFN, attention and all linear layers by every method (the measurements); Wanda and SparseGPT
 *  with a calibration set 8x larger; 4:8 on attention (the same 50% with freer groups; stories260K's FFN down rows,
 *  172 long, are not whole groups of 8) and 1:4 on everything, for the trend. */
export const DEFAULT_CASES: PruneQualityCase[] = [
  ...(["ffn", "attn", "all"] as const).flatMap((tensors) =>
    METHODS.map((method) => ({ pattern: "2:4", method, tensors })),
  ),
  ...(["ffn", "all"] as const).flatMap((tensors) =>
    CALIBRATED.map((method) => ({ pattern: "2:4", method, tensors, calibration: { sequences: 32, length: 128 } })),
  ),
  ...METHODS.map((method) => ({ pattern: "4:8", method, tensors: "attn" as const })),
  ...METHODS.map((method) => ({ pattern: "1:4", method, tensors: "all" as const })),
];

export const DEFAULT_OPTIONS: PruneQualityOptions = {
  prompts: 32,
  promptTokens: 3,
  generate: 64,
  seed: 2024,
  cases: DEFAULT_CASES,
};

/** Log-softmax of each position's logits predicting cont[i] after prompt + cont[0..i). */
function teacherForced(model: ReferenceLlama, prompt: number[], cont: number[]): Float64Array[] {
  const seq = [...prompt, ...cont];
  const out: Float64Array[] = [];
  for (let pos = 0; pos < seq.length - 1; pos++) {
    const logits = model.forward(seq[pos], pos);
    if (pos >= prompt.length - 1) out.push(logSoftmax(logits));
  }
  return out;
}

function logSoftmax(logits: Float64Array): Float64Array {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - max);
  const lse = max + Math.log(sum);
  return logits.map((v) => v - lse);
}

/** KL(p || q) from log-probabilities. */
function kl(logP: Float64Array, logQ: Float64Array): number {
  let s = 0;
  for (let i = 0; i < logP.length; i++) s += Math.exp(logP[i]) * (logP[i] - logQ[i]);
  return s;
}

function entropy(logP: Float64Array): number {
  let s = 0;
  for (const v of logP) s -= Math.exp(v) * v;
  return s;
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function modelOf(bytes: Uint8Array, capacity: number): ReferenceLlama {
  const { config, weights } = referenceWeightsFromGguf(bytes);
  return new ReferenceLlama(config, weights, capacity);
}

export function runPruneQuality(
  bytes: Uint8Array,
  modelName: string,
  overrides: Partial<PruneQualityOptions> = {},
  log: (line: string) => void = () => {},
): PruneQualityResults {
  const o = { ...DEFAULT_OPTIONS, ...overrides };
  const header = parseGgufHeader(bytes, bytes.byteLength);
  const capacity = 1 + o.promptTokens + o.generate;
  const dense = modelOf(bytes, capacity);
  // Prompts the model finds natural (story openings), not random ids: on a context it cannot read the dense
  // distribution is flat and any change flips its argmax, which says little about the pruning.
  const bos = metaNumber(header, "tokenizer.ggml.bos_token_id", 1);
  const ps = sampleSequences(dense, bos, o.prompts, 1 + o.promptTokens, o.seed);
  const reference = ps.map((prompt) => {
    const ids = greedyReference(dense, prompt, o.generate);
    return { prompt, ids, logProbs: teacherForced(dense, prompt, ids) };
  });
  const { dim, hiddenDim, kvDim, nLayers } = dense.config;
  const linearWeights = nLayers * (2 * dim * dim + 2 * dim * kvDim + 3 * dim * hiddenDim);
  log(`dense continuations of ${ps.length} prompts ready`);
  const rows = o.cases.map((c): PruneQualityRow => {
    const started = performance.now();
    const { calibration, ...options } = c;
    const calibrationIds =
      calibration &&
      sampleSequences(modelOf(bytes, calibration.length), bos, calibration.sequences, calibration.length, o.seed + 1);
    const pruned = pruneModel(bytes, { ...options, calibrationIds });
    const model = modelOf(pruned.bytes, capacity);
    let same = 0;
    let firstDivergence = 0;
    let identical = 0;
    let klSum = 0;
    let klMax = 0;
    let top1 = 0;
    let positions = 0;
    for (const r of reference) {
      const ids = greedyReference(model, r.prompt, o.generate);
      same += ids.filter((t, i) => t === r.ids[i]).length;
      const first = ids.findIndex((t, i) => t !== r.ids[i]);
      firstDivergence += first < 0 ? ids.length : first;
      if (first < 0) identical++;
      teacherForced(model, r.prompt, r.ids).forEach((logQ, i) => {
        const d = kl(r.logProbs[i], logQ);
        klSum += d;
        klMax = Math.max(klMax, d);
        if (argmax(logQ) === r.ids[i]) top1++;
        positions++;
      });
    }
    const weights = pruned.tensors.reduce((a, t) => a + t.rows * t.cols, 0);
    const row: PruneQualityRow = {
      ...c,
      agreement: same / (reference.length * o.generate),
      meanFirstDivergence: firstDivergence / reference.length,
      identicalContinuations: identical / reference.length,
      forcedTop1: top1 / positions,
      meanKl: klSum / positions,
      maxKl: klMax,
      zeroShare: pruned.tensors.reduce((a, t) => a + t.zeros, 0) / weights,
      linearShare: weights / linearWeights,
      calibrationTokens: pruned.calibrationTokens,
      seconds: (performance.now() - started) / 1000,
    };
    log(`${c.pattern} ${c.tensors} ${c.method}: agreement ${percent(row.agreement)}, mean KL ${num(row.meanKl)}`);
    return row;
  });
  return {
    date: new Date().toISOString().slice(0, 10),
    model: modelName,
    denseEntropy: mean(reference.flatMap((r) => r.logProbs.map(entropy))),
    options: { prompts: o.prompts, promptTokens: o.promptTokens, generate: o.generate, seed: o.seed },
    calibration:
      `Wanda's and SparseGPT's calibration: sequences x tokens, each BOS then tokens sampled at temperature 1 from ` +
      `the dense model (the tool's default set: ${CALIBRATION_SEQUENCES}x${CALIBRATION_LENGTH}, fixed seed; larger ` +
      `sets: seed ${o.seed + 1}, none shared with the prompts); activation norms (Wanda) and Gram matrices ` +
      `sum x x^T (SparseGPT, which also updates the kept weights) gathered layer by layer on the pruned model`,
    rows,
  };
}

function calibrationCell(x: PruneQualityRow): string {
  const c = x.calibration ?? { sequences: CALIBRATION_SEQUENCES, length: CALIBRATION_LENGTH };
  return `${c.sequences}x${c.length}${x.calibration ? "" : " (default)"}`;
}

export function formatReport(r: PruneQualityResults): string {
  const o = r.options;
  const lines = [
    `# Skiff pruning quality (${r.date})`,
    "",
    `Model \`${r.model}\`, float64 reference model. ${o.prompts} prompts (BOS + ${o.promptTokens} tokens sampled ` +
      `from the dense model, seed ${o.seed}), ${o.generate} greedy tokens each. Agreement: share of generated tokens equal to the ` +
      `dense model's at the same position. Forced top-1: share of teacher-forced positions where the pruned ` +
      `model's argmax is the dense model's. KL: mean over all ${o.prompts * o.generate} positions of ` +
      `KL(dense ‖ pruned) of the next-token distribution, teacher-forced on the dense continuation (nats); the ` +
      `dense distributions there have a mean entropy of ${num(r.denseEntropy)} nats.`,
    "",
    r.calibration + ".",
    "",
    row([
      "pattern",
      "tensors",
      "method",
      "calibration",
      "greedy agreement",
      "identical runs",
      "tokens to 1st diff",
      "forced top-1",
      "mean KL",
      "max KL",
      "zeros",
      "of linear weights",
      "time",
    ]),
    row(Array(13).fill("---")),
    ...r.rows.map((x) =>
      row([
        x.pattern,
        x.tensors,
        x.method,
        x.method === "magnitude" ? dash : calibrationCell(x),
        percent(x.agreement),
        percent(x.identicalContinuations),
        fixed(x.meanFirstDivergence, 1),
        percent(x.forcedTop1),
        num(x.meanKl),
        num(x.maxKl),
        percent(x.zeroShare),
        percent(x.linearShare),
        `${fixed(x.seconds, 1)} s`,
      ]),
    ),
    "",
  ];
  return lines.join("\n");
}

// Calibration for the pruning methods that look at activations: the loop that runs the float64 reference model and
// shows each linear layer's inputs (Wanda's norms here, SparseGPT's Gram matrices in sparsegpt.ts); Wanda's
// statistic (Sun et al., arXiv 2306.11695), the L2 norm of every input feature of each linear layer over the
// calibration tokens; the default calibration set, sampled from the model itself; and the check of caller-given ids.
import { SkiffError } from "../errors.ts";
import { drawUniform } from "../decode/philox.ts";
import type { ReferenceLlama } from "../reference/forward.ts";
import { pickToken, samplingDistribution } from "../reference/ops.ts";

export const LINEAR_ROLES = ["wq", "wk", "wv", "wo", "wGate", "wUp", "wDown"] as const;
export type LinearRole = (typeof LINEAR_ROLES)[number];

/** Default calibration: sequences of this many tokens (BOS included), sampled at temperature 1. */
export const CALIBRATION_SEQUENCES = 8;
export const CALIBRATION_LENGTH = 64;
const CALIBRATION_SEED = 0x5eed;

/** Thrown from the observer to end a forward pass once the layer of interest has been seen. */
class LayerDone extends Error {}

/**
 * Feeds every sequence of `ids` (each from position 0) through the reference model and hands `see` the input of
 * each linear layer of `layer` at every position, as the model is now: a caller that prunes layer by layer gets
 * each layer's inputs through the already-pruned layers before it. Wanda's norms and SparseGPT's Gram matrices are
 * both gathered here. wq, wk, wv see one input, and so do wGate, wUp: `see` is called once per role.
 */
export function observeLayerInputs(
  model: ReferenceLlama,
  layer: number,
  ids: number[][],
  see: (role: LinearRole, input: Float64Array) => void,
): void {
  const previous = model.observe;
  model.observe = (l, role, input) => {
    if (l !== layer) return;
    see(role, input);
    // Later layers and the classifier cannot change what this layer saw; the KV cache of layers up to this one
    // is already written for the position, which is all the next position reads.
    if (role === "wDown") throw new LayerDone();
  };
  try {
    for (const sequence of ids) {
      sequence.forEach((token, pos) => {
        try {
          model.forward(token, pos);
        } catch (e) {
          if (!(e instanceof LayerDone)) throw e;
        }
      });
    }
  } finally {
    model.observe = previous;
  }
}

/** ||X_j||_2 for each input feature j of each linear layer of `layer` over every position of `ids` (see
 *  observeLayerInputs for which model state they see). */
export function inputNorms(model: ReferenceLlama, layer: number, ids: number[][]): Record<LinearRole, Float64Array> {
  const { dim, hiddenDim } = model.config;
  const sums = Object.fromEntries(
    LINEAR_ROLES.map((role) => [role, new Float64Array(role === "wDown" ? hiddenDim : dim)]),
  ) as Record<LinearRole, Float64Array>;
  observeLayerInputs(model, layer, ids, (role, input) => {
    const s = sums[role];
    for (let j = 0; j < s.length; j++) s[j] += input[j] * input[j];
  });
  for (const s of Object.values(sums)) for (let j = 0; j < s.length; j++) s[j] = Math.sqrt(s[j]);
  return sums;
}

/**
 * The built-in calibration set: `sequences` runs of `length` tokens, each BOS then tokens sampled at temperature
 * 1 from the model itself with a fixed seed, so text in the model's own vocabulary and style with no data file.
 */
export function defaultCalibrationIds(
  model: ReferenceLlama,
  bos: number,
  sequences = CALIBRATION_SEQUENCES,
  length = CALIBRATION_LENGTH,
): number[][] {
  return sampleSequences(model, bos, sequences, length, CALIBRATION_SEED);
}

/** `count` sequences of `length` tokens (at most the model's capacity): BOS, then draws at temperature 1 from the
 *  model, uniform (seed, position, sequence). */
export function sampleSequences(
  model: ReferenceLlama,
  bos: number,
  count: number,
  length: number,
  seed: number,
): number[][] {
  const vocabSize = model.config.vocabSize;
  const steps = Math.min(length, model.capacity);
  return Array.from({ length: count }, (_, s) => {
    const seq = [bos];
    while (seq.length < steps) {
      const logits = model.forward(seq[seq.length - 1], seq.length - 1);
      const probs = samplingDistribution(logits, vocabSize, { temperature: 1, topK: 0, topP: 1 });
      seq.push(pickToken(probs, drawUniform(seed, seq.length, s)));
    }
    return seq;
  });
}

/** Refuses calibration ids that are not non-empty lists of token ids below vocabSize, at most maxLength long. */
export function checkCalibrationIds(ids: unknown, vocabSize: number, maxLength: number): number[][] {
  const fail = (why: string): never => {
    throw new SkiffError("bad-argument", `calibration ids: ${why}`);
  };
  if (!Array.isArray(ids) || ids.length === 0) fail("expected a non-empty list of token id lists (number[][])");
  (ids as unknown[]).forEach((seq, i) => {
    if (!Array.isArray(seq) || seq.length === 0) fail(`sequence ${i} is not a non-empty list of token ids`);
    const list = seq as unknown[];
    if (list.length > maxLength) fail(`sequence ${i} has ${list.length} tokens, more than the context of ${maxLength}`);
    const bad = list.findIndex((t) => !(Number.isInteger(t) && (t as number) >= 0 && (t as number) < vocabSize));
    if (bad >= 0) fail(`sequence ${i} has ${JSON.stringify(list[bad])} at ${bad}, not a token id below ${vocabSize}`);
  });
  return ids as number[][];
}

// Reader for llama2.c checkpoints (run.c's format): 7 int32 header, then float32 tensors in run.c order.
import { SkiffError } from "../errors.ts";
import type { LlamaConfig, LlamaWeightsF32 } from "../models/llama-config.ts";

export function readLlama2c(bytes: Uint8Array): { config: LlamaConfig; weights: LlamaWeightsF32 } {
  if (bytes.byteLength < 28) throw new SkiffError("bad-argument", "llama2.c checkpoint is too short for its header");
  const header = new Int32Array(bytes.slice(0, 28).buffer);
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, rawVocab, seqLen] = header;
  const vocabSize = Math.abs(rawVocab);
  const sharedClassifier = rawVocab > 0;
  if ([dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, seqLen].some((v) => v <= 0) || dim % nHeads !== 0) {
    throw new SkiffError("bad-argument", `llama2.c header is not valid: ${Array.from(header).join(", ")}`);
  }
  const headSize = dim / nHeads;
  const kvDim = nKvHeads * headSize;
  const floats = new Float32Array(bytes.slice(28, 28 + Math.floor((bytes.byteLength - 28) / 4) * 4).buffer);
  let at = 0;
  const take = (n: number, what: string): Float32Array => {
    if (at + n > floats.length) throw new SkiffError("bad-argument", `llama2.c checkpoint is truncated in ${what}`);
    const out = floats.slice(at, at + n);
    at += n;
    return out;
  };
  const perLayer = (n: number, what: string) => {
    const all = take(nLayers * n, what);
    return Array.from({ length: nLayers }, (_, l) => all.subarray(l * n, (l + 1) * n));
  };
  const tokenEmbedding = take(vocabSize * dim, "token_embedding_table");
  const attnNorm = perLayer(dim, "rms_att_weight");
  const wq = perLayer(dim * dim, "wq");
  const wk = perLayer(dim * kvDim, "wk");
  const wv = perLayer(dim * kvDim, "wv");
  const wo = perLayer(dim * dim, "wo");
  const ffnNorm = perLayer(dim, "rms_ffn_weight");
  const w1 = perLayer(dim * hiddenDim, "w1");
  const w2 = perLayer(hiddenDim * dim, "w2");
  const w3 = perLayer(dim * hiddenDim, "w3");
  const outputNorm = take(dim, "rms_final_weight");
  take(seqLen * (headSize / 2) * 2, "freq_cis"); // legacy RoPE tables: recomputed, never used
  const output = sharedClassifier ? tokenEmbedding : take(vocabSize * dim, "wcls");
  const config: LlamaConfig = {
    architecture: "llama",
    dim,
    hiddenDim,
    nLayers,
    nHeads,
    nKvHeads,
    headSize,
    kvDim,
    vocabSize,
    seqLen,
    normEps: 1e-5,
    ropeTheta: 10000,
    nRot: headSize,
    ropeLayout: "adjacent",
    tiedOutput: sharedClassifier,
  };
  const layers = Array.from({ length: nLayers }, (_, l) => ({
    attnNorm: attnNorm[l],
    wq: wq[l],
    wk: wk[l],
    wv: wv[l],
    wo: wo[l],
    ffnNorm: ffnNorm[l],
    wGate: w1[l],
    wUp: w3[l],
    wDown: w2[l],
  }));
  return { config, weights: { tokenEmbedding, layers, outputNorm, output } };
}

// The Llama graph builder: config -> the nodes of one step over `nTokens` tokens. A prefill step runs the layers
// only (its last token is run again as a decode step, which is the one that makes logits and picks the token);
// a decode step ends with the output norm, the classifier and the sampler writing the next token id; a verify step
// (speculative decoding) is a prefill over the drafted tokens that also makes every row's logits and argmax.
// A projection with a bias (qwen2's q, k, v) is followed by a bias add on its output.
// A decode step with `ffnSkip` starts with the FFN-skip plan and gates the FFN nodes of layers [first, end) on it;
// every layer's FFN residual add measures the block's similarity and marks it as run (src/kernels/ffn-*.ts).
import { PROJECTION_BIAS, type BiasedProjection, type LlamaConfig } from "./llama-config.ts";
import { resource, stepBuffer, tensor, type Graph, type GraphNode } from "../graph/ir.ts";

export type StepKind = "prefill" | "decode" | "verify";

export interface LlamaStepOptions {
  kind: StepKind;
  /** Tokens in the step: any count for prefill, 1 for decode. */
  nTokens: number;
  /** KV cache capacity (the context length chosen at load). */
  capacity: number;
  /** Decode only: "argmax" for greedy, "sample" for temperature / top-k / top-p. */
  sampler?: "argmax" | "sample";
  /** Decode only: penalise tokens of the last REPETITION_WINDOW positions before choosing. */
  repetitionPenalty?: boolean;
  /** Decode only: the layers whose FFN may be skipped, [first, end); the plan's other settings are uniforms. An empty
   *  range makes a step that only measures (every block runs, no plan, no indirect dispatches): the dense warm-up's. */
  ffnSkip?: { first: number; end: number };
}

/** Resources the step binds by name; the engine provides them (weights by their stored role names). */
export const TOKENS = "tokens";
/** The ring of recent token ids that the repetition penalty reads (llama.cpp's penalty_last_n). */
export const HISTORY = "history";
export const REPETITION_WINDOW = 64;
export const kvResource = (layer: number) => `kv.${layer}`;
/** FFN-skip state: one LayerState per layer (src/kernels/ffn-plan.ts), and the per-token flags of blocks that ran. */
export const FFN_STATE = "ffnSkip.state";
export const FFN_RAN = "ffnSkip.ran";
/** The verify step's argmax of every row (u32, one per verified position). */
export const VERIFIED = "verified";

export function buildLlamaStep(c: LlamaConfig, o: LlamaStepOptions): Graph {
  const m = o.nTokens;
  if (o.kind === "decode" && m !== 1) throw new Error("a decode step runs one token");
  if (o.ffnSkip && o.kind !== "decode") throw new Error("FFN skipping is for decode steps");
  const skip = o.ffnSkip;
  const gated = skip && skip.end > skip.first ? skip : undefined;
  const { dim, kvDim, hiddenDim, nHeads, nKvHeads, headSize } = c;
  const qDim = nHeads * headSize;
  const tensors: Record<string, number> = {
    x: m * dim,
    xb: m * dim,
    q: m * qDim,
    k: m * kvDim,
    v: m * kvDim,
    att: m * qDim,
    o: m * dim,
    hb: m * hiddenDim,
    hb2: m * hiddenDim,
    hs: m * hiddenDim,
  };
  const nodes: GraphNode[] = [];
  const node = (
    op: string,
    label: string,
    args: GraphNode["args"],
    writes: string[],
    positional?: Record<string, number>,
  ) => nodes.push({ op, label, args, writes, positional });
  const matmul = (w: string, x: string, out: string) =>
    node("matmul", w, { weight: resource(w), x: tensor(x), out: tensor(out), m }, [out]);
  /** Layer l's projection `role` of x into out (n wide), then its bias when the model has one. */
  const project = (l: number, role: BiasedProjection, x: string, out: string, n: number) => {
    matmul(`layers.${l}.${role}`, x, out);
    const bias = PROJECTION_BIAS[role];
    if (c.biases?.includes(bias)) {
      const name = `layers.${l}.${bias}`;
      node("biasAdd", name, { x: tensor(out), bias: resource(name), rows: m, n }, [out]);
    }
  };
  const shape = { nKvHeads, capacity: o.capacity, headSize };

  if (gated) {
    node(
      "ffnPlan",
      "ffnPlan",
      {
        state: resource(FFN_STATE),
        table: stepBuffer("gateTable"),
        args: stepBuffer("gateArgs"),
        ran: resource(FFN_RAN),
        nLayers: c.nLayers,
        first: gated.first,
        end: gated.end,
        cap: 0,
        recheck: 0,
        threshold: 2,
        pos: 0,
        warmupUntil: 0,
      },
      [],
      { pos: 0 },
    );
  }

  node(
    "embedding",
    "tokenEmbedding",
    { table: resource("tokenEmbedding"), tokens: resource(TOKENS), out: tensor("x"), count: m },
    ["x"],
  );
  for (let l = 0; l < c.nLayers; l++) {
    const p = `layers.${l}`;
    // (dim) attention block
    node(
      "rmsNorm",
      `${p}.attnNorm`,
      { x: tensor("x"), weight: resource(`${p}.attnNorm`), out: tensor("xb"), rows: m, dim, eps: c.normEps },
      ["xb"],
    );
    project(l, "wq", "xb", "q", qDim);
    project(l, "wk", "xb", "k", kvDim);
    project(l, "wv", "xb", "v", kvDim);
    const rope = {
      nTokens: m,
      headSize,
      nRot: c.nRot,
      base: c.ropeTheta,
      startPos: 0,
      layout: c.ropeLayout,
      freqFactors: resource("ropeFreqs"),
    };
    node("rope", `${p}.rope.q`, { ...rope, x: tensor("q"), nHeads }, ["q"], { start_pos: 0 });
    node("rope", `${p}.rope.k`, { ...rope, x: tensor("k"), nHeads: nKvHeads }, ["k"], { start_pos: 0 });
    node(
      "kvCacheWrite",
      `${p}.kv`,
      { k: tensor("k"), v: tensor("v"), cache: resource(kvResource(l)), ...shape, nTokens: m, startPos: 0 },
      [],
      { start_pos: 0 },
    );
    if (o.kind === "decode") {
      node(
        "attentionDecode",
        `${p}.attention`,
        { q: tensor("q"), cache: resource(kvResource(l)), ...shape, out: tensor("att"), nHeads, pos: 0 },
        ["att"],
        { pos: 0 },
      );
    } else {
      node(
        "attentionPrefill",
        `${p}.attention`,
        {
          q: tensor("q"),
          cache: resource(kvResource(l)),
          ...shape,
          out: tensor("att"),
          nHeads,
          nTokens: m,
          startPos: 0,
        },
        ["att"],
        { start_pos: 0 },
      );
    }
    project(l, "wo", "att", "o", dim);
    node("add", `${p}.residual.attn`, { a: tensor("x"), b: tensor("o"), out: tensor("x"), n: m * dim }, ["x"]);
    // (hiddenDim) feed-forward block: down(silu(gate(x)) * up(x))
    const ffnStart = nodes.length;
    node(
      "rmsNorm",
      `${p}.ffnNorm`,
      { x: tensor("x"), weight: resource(`${p}.ffnNorm`), out: tensor("xb"), rows: m, dim, eps: c.normEps },
      ["xb"],
    );
    matmul(`${p}.wGate`, "xb", "hb");
    matmul(`${p}.wUp`, "xb", "hb2");
    node("swiglu", `${p}.swiglu`, { gate: tensor("hb"), up: tensor("hb2"), out: tensor("hs"), n: m * hiddenDim }, [
      "hs",
    ]);
    matmul(`${p}.wDown`, "hs", "o");
    if (skip) {
      const args = {
        x: tensor("x"),
        o: tensor("o"),
        state: resource(FFN_STATE),
        ran: resource(FFN_RAN),
        dim,
        layer: l,
      };
      node("ffnResidual", `${p}.residual.ffn`, args, ["x"]);
    } else {
      node("add", `${p}.residual.ffn`, { a: tensor("x"), b: tensor("o"), out: tensor("x"), n: m * dim }, ["x"]);
    }
    // The whole block, from its norm to its residual add, obeys the layer's switch: skipped, it adds nothing.
    if (gated && l >= gated.first && l < gated.end) nodes.slice(ffnStart).forEach((n) => (n.gate = l));
  }
  if (o.kind !== "prefill") {
    tensors.logits = m * c.vocabSize;
    node(
      "rmsNorm",
      "outputNorm",
      { x: tensor("x"), weight: resource("outputNorm"), out: tensor("xb"), rows: m, dim, eps: c.normEps },
      ["xb"],
    );
    node(
      "matmul",
      "output",
      { weight: resource(c.tiedOutput ? "tokenEmbedding" : "output"), x: tensor("xb"), out: tensor("logits"), m },
      ["logits"],
    );
  }
  if (o.kind === "verify") {
    node("argmax", "argmax", { logits: tensor("logits"), out: resource(VERIFIED), n: c.vocabSize, rows: m }, []);
  }
  if (o.kind === "decode") {
    if (o.repetitionPenalty) {
      const args = {
        tokens: resource(TOKENS),
        history: resource(HISTORY),
        logits: tensor("logits"),
        vocab: c.vocabSize,
      };
      node(
        "repetitionPenalty",
        "repetitionPenalty",
        { ...args, window: REPETITION_WINDOW, pos: 0, penalty: 1 },
        ["logits"],
        { pos: 0 },
      );
    }
    if ((o.sampler ?? "argmax") === "argmax") {
      node("argmax", "argmax", { logits: tensor("logits"), out: resource(TOKENS), n: c.vocabSize }, []);
    } else {
      node("sample", "sample", { logits: tensor("logits"), out: resource(TOKENS), n: c.vocabSize }, [], { step: 0 });
    }
  }
  return { tensors, nodes, gates: gated ? c.nLayers : 0 };
}

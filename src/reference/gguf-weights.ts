// The oracle's weights: every tensor of a Llama-family GGUF dequantized to plain floats (test side only). RoPE
// scaling that only the metadata describes is the reference's own business (ReferenceLlama), not a weight.
import { parseGgufHeader } from "../loaders/gguf.ts";
import { llamaConfigFromGguf, llamaTensorMap } from "../loaders/gguf-llama.ts";
import { weightTypeOf } from "../loaders/ggml-types.ts";
import { dequantize } from "../loaders/ggml-quants.ts";
import type { LlamaConfig, LlamaWeightsF32, LayerWeightsF32 } from "../models/llama-config.ts";
import type { GgufTensorInfo } from "../loaders/gguf.ts";

export function referenceWeightsFromGguf(bytes: Uint8Array): { config: LlamaConfig; weights: LlamaWeightsF32 } {
  const header = parseGgufHeader(bytes, bytes.byteLength);
  const config = llamaConfigFromGguf(header);
  const map = llamaTensorMap(header, config);
  const floats = (t: GgufTensorInfo): Float32Array => {
    const count = t.dims.reduce((a, b) => a * b, 1);
    const type = weightTypeOf(t.type);
    if (!type) throw new Error(`reference cannot read ${t.name}`);
    return Float32Array.from(dequantize(type, bytes.subarray(t.offset, t.offset + t.byteSize), count));
  };
  // Every role the map found, biases included.
  const layers = map.layers.map(
    (layer) => Object.fromEntries(Object.entries(layer).map(([role, t]) => [role, floats(t)])) as LayerWeightsF32,
  );
  const tokenEmbedding = floats(map.tokenEmbedding);
  return {
    config,
    weights: {
      tokenEmbedding,
      layers,
      outputNorm: floats(map.outputNorm),
      output: config.tiedOutput ? tokenEmbedding : floats(map.output),
      ropeFreqs: map.ropeFreqs && floats(map.ropeFreqs),
    },
  };
}

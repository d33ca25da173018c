// Test support for FFN skipping (browser tests only): GGUF files with a layer's FFN output forced to a scale (zero
// makes a block that never changes the residual stream), and engine runs that collect the per-token FFN map.
import { parseGgufHeader } from "../loaders/gguf.ts";
import { GGML_TYPE } from "../loaders/ggml-types.ts";
import type { Engine } from "./engine.ts";
import type { GenerateSettings } from "./settings.ts";
import type { GenerateResult } from "./types.ts";

/** A copy of a GGUF with `blk.{layer}.ffn_down.weight` multiplied by `factor` (F32 tensors; any type for 0). */
export function scaleFfnDown(bytes: Uint8Array, layers: number[], factor: number): Uint8Array {
  const out = bytes.slice();
  const header = parseGgufHeader(out, out.byteLength);
  for (const layer of layers) {
    const t = header.tensors.find((x) => x.name === `blk.${layer}.ffn_down.weight`);
    if (!t) throw new Error(`no ffn_down in layer ${layer}`);
    const data = out.subarray(t.offset, t.offset + t.byteSize);
    if (factor === 0) data.fill(0);
    else if (t.type === GGML_TYPE.F32) {
      const f = new Float32Array(data.buffer, data.byteOffset, data.byteLength / 4);
      for (let i = 0; i < f.length; i++) f[i] *= factor;
    } else throw new Error(`scaling ${t.name} of type ${t.type} is not supported; use an F32 model`);
  }
  return out;
}

export interface MappedRun extends GenerateResult {
  /** Per token event: the FFN map it carried (undefined on dense runs). */
  maps: (boolean[] | undefined)[];
}

export async function generateWithMap(
  engine: Engine,
  prompt: number[],
  settings: Partial<GenerateSettings>,
  onIndex?: (index: number) => void,
): Promise<MappedRun> {
  const maps: (boolean[] | undefined)[] = [];
  const r = await engine.generate(prompt, settings, (t) => {
    if (t.id < 0) return;
    maps.push(t.ffnRan);
    onIndex?.(t.index);
  });
  return { ...r, maps };
}

// The buffers that FFN skipping and speculative decoding add to a loaded model, made at load so nothing is created on
// the per-token path: the FFN-skip state and per-token flags, the drafted and verified ids, and the readback buffers.
import type { GpuContext } from "../gpu/device.ts";
import { FFN_STATE_BYTES } from "../kernels/ffn-plan.ts";
import { FFN_RAN, FFN_STATE, VERIFIED } from "../models/llama.ts";
import { MAX_DRAFT } from "./settings.ts";
import type { GpuModel } from "./gpu-model.ts";

/** Words of a readback slot: a verify pass's ids (MAX_DRAFT + 1) then its drafts (as many); a decode step uses the
 *  first word for its token id and the next nLayers for its FFN flags. */
export const DRAFT_WORDS = MAX_DRAFT + 1;

export interface DecodeBuffers {
  ffnState: GPUBuffer;
  ffnRan: GPUBuffer;
  /** Speculative decoding: the token before the drafts, then the drafted ids (u32). */
  drafts: GPUBuffer;
  verified: GPUBuffer;
  /** Two, so the next decode step can be in flight while the CPU reads this one's. */
  readbacks: GPUBuffer[];
  /** Logits of a verify pass for sampled speculative decoding: made on first use (vocabulary x rows can be large). */
  logitsReadback(bytes: number): GPUBuffer;
  destroy(): void;
}

export function createDecodeBuffers(ctx: GpuContext, gpu: GpuModel): DecodeBuffers {
  const { device } = ctx;
  const nLayers = gpu.manifest.config.nLayers;
  const storage = (label: string, bytes: number, extra = 0) =>
    device.createBuffer({
      label,
      size: Math.ceil(Math.max(16, bytes) / 16) * 16,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | extra,
    });
  const ffnState = storage(FFN_STATE, nLayers * FFN_STATE_BYTES);
  const ffnRan = storage(FFN_RAN, nLayers * 4);
  const drafts = storage("drafts", DRAFT_WORDS * 4);
  const verified = storage(VERIFIED, DRAFT_WORDS * 4);
  gpu.resources.set(FFN_STATE, ffnState);
  gpu.resources.set(FFN_RAN, ffnRan);
  gpu.resources.set(VERIFIED, verified);
  const readbackBytes = Math.ceil((Math.max(1 + nLayers, 2 * DRAFT_WORDS) * 4) / 16) * 16;
  const readbacks = [0, 1].map((i) =>
    device.createBuffer({
      label: `readback-${i}`,
      size: readbackBytes,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    }),
  );
  let logits: GPUBuffer | undefined;
  return {
    ffnState,
    ffnRan,
    drafts,
    verified,
    readbacks,
    logitsReadback(bytes) {
      if (!logits || logits.size < bytes) {
        logits?.destroy();
        logits = device.createBuffer({
          label: "verify-logits-readback",
          size: Math.ceil(bytes / 16) * 16,
          usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
        });
      }
      return logits;
    },
    destroy() {
      [ffnState, ffnRan, drafts, verified, ...readbacks].forEach((b) => b.destroy());
      logits?.destroy();
    },
  };
}

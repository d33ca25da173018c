// Skiff's attention kernels as contenders: decode (one query over the KV cache) and prefill (causal over a chunk),
// every variant the launchers offer, on a KV cache of random values, each output checked against the reference.
import type { GpuContext } from "../src/gpu/device.ts";
import { uploadBuffer } from "../src/gpu/readback.ts";
import { attentionDecode } from "../src/kernels/attention-decode.ts";
import { attentionPrefill } from "../src/kernels/attention-prefill.ts";
import { createKvCache, type AttentionVariant, type KvCacheShape } from "../src/kernels/kv-cache.ts";
import { defaultStyle } from "../src/kernels/tuning.ts";
import { randomF32 } from "../src/kernels/testing.ts";
import { attention } from "../src/reference/attention.ts";
import { SKIFF_TIMED, timeSkiff } from "./skiff-timing.ts";
import { checkBuffer, poison } from "./spot-check.ts";
import { errorText } from "./timing.ts";
import type { AttentionCase, ContenderResult, RunBudget } from "./types.ts";
import type { Dispatch } from "../src/kernels/dispatch.ts";

/** f32 scores and exp over up to 1024 keys against float64, normalised by the largest output. */
const TOLERANCE = 1e-4;

interface Style {
  variant: AttentionVariant;
  /** Decode's cooperative split may reduce with subgroups; undefined where the launcher has no such choice. */
  subgroups?: boolean;
  label: string;
}

function styles(ctx: GpuContext, op: AttentionCase["op"]): Style[] {
  const all: Style[] = [{ variant: "rowwise", label: "rowwise" }];
  if (op === "attention-prefill") return [...all, { variant: "cooperative", label: "cooperative" }];
  if (ctx.features.subgroups) all.push({ variant: "cooperative", subgroups: true, label: "cooperative+subgroups" });
  return [...all, { variant: "cooperative", subgroups: false, label: "cooperative+shared" }];
}

function isDefaultStyle(ctx: GpuContext, s: Style): boolean {
  if (s.variant !== defaultStyle(ctx)) return false;
  return s.subgroups === undefined || s.variant === "rowwise" || s.subgroups === ctx.features.subgroups;
}

export async function benchAttention(
  ctx: GpuContext,
  c: AttentionCase,
  budget: RunBudget,
  random: () => number,
): Promise<ContenderResult[]> {
  const decode = c.op === "attention-decode";
  // Decode: one query at the last position; prefill: seqLen queries at positions 0..seqLen-1.
  const nTokens = decode ? 1 : c.seqLen;
  const startPos = decode ? c.seqLen - 1 : 0;
  const shape: KvCacheShape = { nKvHeads: c.nKvHeads, capacity: c.seqLen, headSize: c.headSize };
  const cache = createKvCache(ctx, 1, shape);
  const cacheWords = c.nKvHeads * c.seqLen * c.headSize;
  const keys = randomF32(cacheWords, random);
  const values = randomF32(cacheWords, random);
  ctx.device.queue.writeBuffer(cache.layers[0].k, 0, keys as Float32Array<ArrayBuffer>);
  ctx.device.queue.writeBuffer(cache.layers[0].v, 0, values as Float32Array<ArrayBuffer>);
  const size = nTokens * c.nHeads * c.headSize;
  const qData = randomF32(size, random);
  const q = uploadBuffer(ctx.device, qData, "bench.q");
  const out = uploadBuffer(ctx.device, new Float32Array(size), "bench.out");
  const scale = 1 / Math.sqrt(c.headSize);
  const want = attention(new Float64Array(size), qData, keys, values, {
    ...shape,
    nTokens,
    startPos,
    nHeads: c.nHeads,
    scale,
  });
  const results: ContenderResult[] = [];
  try {
    for (const s of styles(ctx, c.op)) {
      const r: ContenderResult = {
        name: `skiff ${c.op} ${s.label}`,
        family: "skiff",
        variant: s.label,
        isDefault: isDefaultStyle(ctx, s),
        // Every live K and V row is read once per pass (f32).
        weightBytes: 2 * cacheWords * 4,
        timed: SKIFF_TIMED,
      };
      try {
        poison(ctx.device, out, size);
        const common = { q, cache: cache.layers[0], shape, out, nHeads: c.nHeads, scale, variant: s.variant };
        let dispatches: Dispatch[];
        if (decode) {
          const k = await attentionDecode(ctx, { ...common, pos: startPos, subgroups: s.subgroups });
          dispatches = k.dispatches;
          r.variant = `${s.label}, ${k.nSplits} splits`;
        } else {
          dispatches = (await attentionPrefill(ctx, { ...common, nTokens, startPos })).dispatches;
        }
        Object.assign(r, await timeSkiff(ctx, dispatches, budget));
        await checkBuffer(ctx.device, out, want, TOLERANCE);
      } catch (e) {
        r.error = errorText(e);
      }
      results.push(r);
    }
  } finally {
    cache.destroy();
    q.destroy();
    out.destroy();
  }
  return results;
}

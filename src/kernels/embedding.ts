// Launcher for the embedding lookup (shaders/embedding.wgsl): out[i, :] = row tokens[i] of a weight table of any
// runnable type, dequantized to f32, one dispatch per row chunk of the table. A token id at or past the table's rows
// reads nothing and gives a row of zeros (the last chunk's dispatch writes them), so a bad id can never read out of
// bounds; callers that must reject such ids check them on the CPU, where they come from.
import source from "../../shaders/embedding.wgsl?raw";
import type { GpuContext } from "../gpu/device.ts";
import { SkiffError } from "../errors.ts";
import { ceilDiv, combine, defineKernel, prepareKernel, type Binding, type PreparedKernel } from "./dispatch.ts";
import { chunkBindings, weightSource, type GpuWeight } from "./weights.ts";
import { foldWorkgroups, requireBytes } from "./grid.ts";

export const embeddingKernel = defineKernel("embedding", source, [
  ["count", "u32"],
  ["cols", "u32"],
  ["row_start", "u32"],
  ["rows", "u32"],
  ["total_rows", "u32"],
  ["zero_fill", "u32"],
  ["grid_x", "u32"],
  ["groups_per_token", "u32"],
] as const);

export type EmbeddingKernel = PreparedKernel<typeof embeddingKernel.params.fields>;

export interface EmbeddingArgs {
  /** (vocabSize, dim) table. */
  table: GpuWeight;
  /** count u32 token ids. */
  tokens: GPUBuffer | Binding;
  /** (count, dim) f32. */
  out: GPUBuffer | Binding;
  count: number;
}

const WG = 64;

export function embedding(ctx: GpuContext, a: EmbeddingArgs): Promise<EmbeddingKernel> {
  const { table, count } = a;
  const shape = `embedding-${table.type}(count=${count}, vocabSize=${table.rows}, dim=${table.cols})`;
  if (!(Number.isInteger(count) && count >= 1)) {
    throw new SkiffError("bad-shape", `${shape}: count must be a positive integer`);
  }
  weightSource(table.type, table.cols);
  requireBytes(shape, `tokens (count=${count} u32)`, a.tokens, count * 4);
  requireBytes(shape, `out (count=${count} x dim=${table.cols} f32)`, a.out, count * table.cols * 4);
  return prepareEmbedding(ctx, a);
}

async function prepareEmbedding(ctx: GpuContext, a: EmbeddingArgs): Promise<EmbeddingKernel> {
  const { table, count } = a;
  const w = weightSource(table.type, table.cols);
  const joined = [w.source, source].join("\n");
  // One invocation per 8 elements of an output row; tokens x groups folded into a 2-D grid.
  const groupsPerToken = ceilDiv(ceilDiv(table.cols, 8), WG);
  const [gx, gy] = foldWorkgroups(ctx, count * groupsPerToken);
  const last = table.chunks.length - 1;
  const parts: EmbeddingKernel[] = [];
  for (const [n, chunk] of table.chunks.entries()) {
    parts.push(
      await prepareKernel({
        ctx,
        kernel: embeddingKernel,
        source: joined,
        variant: w.name,
        bindings: [a.tokens, a.out, ...chunkBindings(chunk)],
        params: {
          count,
          cols: table.cols,
          row_start: chunk.rowStart,
          rows: chunk.rows,
          total_rows: table.rows,
          zero_fill: n === last ? 1 : 0,
          grid_x: gx,
          groups_per_token: groupsPerToken,
        },
        workgroups: [gx, gy],
        constants: { WG },
      }),
    );
  }
  return combine(parts);
}

// Buffer planner: gives every activation tensor a buffer ("slot"), and lets tensors whose lifetimes do not
// overlap (first write to last read, in node order) share one. Separate buffers, not ranges of one arena,
// because WebGPU validates usage per buffer: one dispatch may not bind a buffer both read-only and writable.
import { isTensorRef, type Graph } from "./ir.ts";

export interface BufferPlan {
  /** Byte size of each slot buffer. */
  slots: number[];
  /** Slot index of each tensor, and the tensor's own size. */
  placements: Record<string, { slot: number; bytes: number }>;
  /** Bytes of all slots. */
  totalBytes: number;
  /** What one buffer per tensor would take: the planner's saving is the difference. */
  naiveBytes: number;
}

interface Interval {
  name: string;
  bytes: number;
  first: number;
  last: number;
}

/** Lifetimes of the graph's tensors; a tensor never read lives until the end (it is a step output). */
export function lifetimes(graph: Graph): Interval[] {
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  const read = new Set<string>();
  graph.nodes.forEach((node, i) => {
    const reads = Object.values(node.args)
      .filter(isTensorRef)
      .map((r) => r.tensor);
    reads.forEach((r) => read.add(r));
    for (const name of [...node.writes, ...reads]) {
      if (!(name in graph.tensors)) throw new Error(`node ${node.label} uses undeclared tensor ${name}`);
      if (!first.has(name)) first.set(name, i);
      last.set(name, i);
    }
  });
  return Object.entries(graph.tensors)
    .filter(([name]) => first.has(name))
    .map(([name, words]) => ({
      name,
      bytes: Math.max(4, words * 4),
      first: first.get(name)!,
      last: read.has(name) ? last.get(name)! : graph.nodes.length,
    }));
}

/** Interval colouring in order of first use; a tensor takes the freed slot closest to its size. */
export function planBuffers(graph: Graph): BufferPlan {
  const intervals = lifetimes(graph).sort((a, b) => a.first - b.first || b.bytes - a.bytes);
  const slots: number[] = [];
  const freeAt: number[] = []; // node index after which the slot's current tensor is dead
  const placements: BufferPlan["placements"] = {};
  for (const t of intervals) {
    let best = -1;
    for (let s = 0; s < slots.length; s++) {
      if (freeAt[s] >= t.first) continue;
      // Prefer a slot already big enough and smallest; else the largest (it will grow least).
      const fits = slots[s] >= t.bytes;
      const bestFits = best >= 0 && slots[best] >= t.bytes;
      if (
        best < 0 ||
        (fits && (!bestFits || slots[s] < slots[best])) ||
        (!fits && !bestFits && slots[s] > slots[best])
      ) {
        best = s;
      }
    }
    if (best < 0) {
      best = slots.length;
      slots.push(0);
      freeAt.push(-1);
    }
    slots[best] = Math.max(slots[best], t.bytes);
    freeAt[best] = t.last;
    placements[t.name] = { slot: best, bytes: t.bytes };
  }
  const totalBytes = slots.reduce((a, b) => a + b, 0);
  const naiveBytes = intervals.reduce((s, t) => s + t.bytes, 0);
  return { slots, placements, totalBytes, naiveBytes };
}

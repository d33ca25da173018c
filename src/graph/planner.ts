// Buffer planner: gives every activation tensor a range of one arena buffer, reusing space between tensors
// whose lifetimes do not overlap (first write to last read, in node order). Planned once per step shape.
import { isTensorRef, type Graph } from "./ir.ts";

export interface TensorPlacement {
  /** Byte offset in the arena; a multiple of `alignment`. */
  offset: number;
  bytes: number;
}

export interface BufferPlan {
  placements: Record<string, TensorPlacement>;
  /** Arena size in bytes. */
  arenaBytes: number;
  /** What the arena would need without reuse: the planner's saving is the difference. */
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
  graph.nodes.forEach((node, i) => {
    const touched = [
      ...node.writes,
      ...Object.values(node.args)
        .filter(isTensorRef)
        .map((r) => r.tensor),
    ];
    for (const name of touched) {
      if (!(name in graph.tensors)) throw new Error(`node ${node.label} uses undeclared tensor ${name}`);
      if (!first.has(name)) first.set(name, i);
      last.set(name, i);
    }
  });
  return Object.entries(graph.tensors)
    .filter(([name]) => first.has(name))
    .map(([name, words]) => {
      const read = graph.nodes.some((n) => Object.values(n.args).some((a) => isTensorRef(a) && a.tensor === name));
      return { name, bytes: words * 4, first: first.get(name)!, last: read ? last.get(name)! : graph.nodes.length };
    });
}

/**
 * Greedy by size (largest first): each tensor takes the lowest offset that does not collide with a placed tensor
 * whose lifetime overlaps its own. Offsets are aligned for binding at an offset (minStorageBufferOffsetAlignment).
 */
export function planBuffers(graph: Graph, alignment = 256): BufferPlan {
  const intervals = lifetimes(graph).sort((a, b) => b.bytes - a.bytes || a.first - b.first);
  const placed: (Interval & TensorPlacement)[] = [];
  let arenaBytes = 0;
  for (const t of intervals) {
    const size = Math.ceil(t.bytes / alignment) * alignment;
    const clashes = placed.filter((p) => p.first <= t.last && t.first <= p.last).sort((a, b) => a.offset - b.offset);
    let offset = 0;
    for (const c of clashes) {
      if (offset + size <= c.offset) break;
      offset = Math.max(offset, Math.ceil((c.offset + c.bytes) / alignment) * alignment);
    }
    placed.push({ ...t, offset, bytes: t.bytes });
    arenaBytes = Math.max(arenaBytes, offset + size);
  }
  const placements: Record<string, TensorPlacement> = {};
  for (const p of placed) placements[p.name] = { offset: p.offset, bytes: p.bytes };
  const naiveBytes = intervals.reduce((s, t) => s + Math.ceil(t.bytes / alignment) * alignment, 0);
  return { placements, arenaBytes: Math.max(arenaBytes, alignment), naiveBytes };
}

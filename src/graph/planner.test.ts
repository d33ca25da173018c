// The buffer planner: no two live tensors share a buffer, dead ones are reused.
import { describe, expect, test } from "vitest";
import { planBuffers, lifetimes } from "./planner.ts";
import { tensor, type Graph, type GraphNode } from "./ir.ts";

function chain(n: number, words: number): Graph {
  const tensors: Record<string, number> = {};
  const nodes: GraphNode[] = [{ op: "x", label: "init", args: {}, writes: ["t0"] }];
  for (let i = 0; i <= n; i++) tensors[`t${i}`] = words + i;
  for (let i = 0; i < n; i++)
    nodes.push({ op: "x", label: `n${i}`, args: { a: tensor(`t${i}`) }, writes: [`t${i + 1}`] });
  return { tensors, nodes };
}

function sharedWhileLive(g: Graph): [string, string][] {
  const plan = planBuffers(g);
  const live = lifetimes(g);
  const bad: [string, string][] = [];
  for (const a of live)
    for (const b of live) {
      if (a.name >= b.name || a.first > b.last || b.first > a.last) continue;
      if (plan.placements[a.name].slot === plan.placements[b.name].slot) bad.push([a.name, b.name]);
    }
  for (const [name, p] of Object.entries(plan.placements))
    expect(plan.slots[p.slot], name).toBeGreaterThanOrEqual(p.bytes);
  return bad;
}

describe("planner", () => {
  test("a chain needs two buffers, not one per tensor", () => {
    const g = chain(10, 1000);
    const plan = planBuffers(g);
    expect(sharedWhileLive(g)).toEqual([]);
    expect(plan.slots.length).toBe(2);
    expect(plan.totalBytes).toBeLessThan(plan.naiveBytes / 3);
  });

  test("random graphs never give two live tensors one buffer", () => {
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let trial = 0; trial < 50; trial++) {
      const tensors: Record<string, number> = {};
      const nodes: GraphNode[] = [];
      const names: string[] = [];
      for (let i = 0; i < 30; i++) {
        const name = `t${i}`;
        tensors[name] = 1 + Math.floor(rand() * 5000);
        const reads = names.filter(() => rand() < 0.15).map((r) => tensor(r));
        nodes.push({
          op: "x",
          label: `n${i}`,
          args: Object.fromEntries(reads.map((r, j) => [`in${j}`, r])),
          writes: [name],
        });
        names.push(name);
      }
      expect(sharedWhileLive({ tensors, nodes })).toEqual([]);
    }
  });

  test("an undeclared tensor is an error naming the node", () => {
    const g: Graph = { tensors: {}, nodes: [{ op: "x", label: "bad-node", args: { a: tensor("ghost") }, writes: [] }] };
    expect(() => planBuffers(g)).toThrow(/bad-node.*ghost/);
  });
});

// The buffer planner: no two live tensors share bytes, dead ones are reused, offsets are aligned.
import { describe, expect, test } from "vitest";
import { planBuffers, lifetimes } from "./planner.ts";
import { tensor, type Graph } from "./ir.ts";

function chain(n: number, words: number): Graph {
  const tensors: Record<string, number> = {};
  const nodes = [];
  for (let i = 0; i <= n; i++) tensors[`t${i}`] = words + i;
  for (let i = 0; i < n; i++)
    nodes.push({ op: "x", label: `n${i}`, args: { a: tensor(`t${i}`) }, writes: [`t${i + 1}`] });
  nodes.unshift({ op: "x", label: "init", args: {}, writes: ["t0"] });
  return { tensors, nodes };
}

function overlapping(g: Graph): [string, string][] {
  const plan = planBuffers(g);
  const live = lifetimes(g);
  const bad: [string, string][] = [];
  for (const a of live)
    for (const b of live) {
      if (a.name >= b.name || a.first > b.last || b.first > a.last) continue;
      const pa = plan.placements[a.name];
      const pb = plan.placements[b.name];
      if (pa.offset < pb.offset + pb.bytes && pb.offset < pa.offset + pa.bytes) bad.push([a.name, b.name]);
    }
  return bad;
}

describe("planner", () => {
  test("a chain reuses memory: the arena holds about two tensors, not all", () => {
    const g = chain(10, 1000);
    const plan = planBuffers(g);
    expect(overlapping(g)).toEqual([]);
    expect(plan.arenaBytes).toBeLessThan(plan.naiveBytes / 3);
    for (const p of Object.values(plan.placements)) expect(p.offset % 256).toBe(0);
  });

  test("random graphs never place two live tensors on the same bytes", () => {
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let trial = 0; trial < 50; trial++) {
      const tensors: Record<string, number> = {};
      const nodes = [];
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
      expect(overlapping({ tensors, nodes })).toEqual([]);
    }
  });

  test("an undeclared tensor is an error naming the node", () => {
    expect(() =>
      planBuffers({ tensors: {}, nodes: [{ op: "x", label: "bad-node", args: { a: tensor("ghost") }, writes: [] }] }),
    ).toThrow(/bad-node.*ghost/);
  });
});

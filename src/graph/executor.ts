// The executor: plans a graph's activations into reusable buffers, prepares every node's kernel once (pipelines,
// bind groups, uniforms), then records the whole step into one compute pass. Per step it only rewrites the
// uniforms that depend on the position. Gated nodes (GraphNode.gate) are dispatched indirectly: the executor makes
// the step's argument buffer and a table of their grids, which a node of the step reads to switch them on or off.
import type { GpuContext } from "../gpu/device.ts";
import { SkiffError } from "../errors.ts";
import { encodeDispatches, type Binding, type Dispatch, type PreparedKernel } from "../kernels/dispatch.ts";
import type { ParamFields } from "../gpu/uniforms.ts";
import { isResourceRef, isStepRef, isTensorRef, type Graph, type GraphNode } from "./ir.ts";
import { planBuffers, type BufferPlan } from "./planner.ts";

/** Prepares one node's kernel from its resolved arguments (buffers in place of names). */
export type OpLauncher = (ctx: GpuContext, args: Record<string, unknown>) => Promise<PreparedKernel<ParamFields>>;
export type OpTable = Record<string, OpLauncher>;

export interface PreparedStep {
  graph: Graph;
  plan: BufferPlan;
  dispatches: Dispatch[];
  /** Rewrites the position-dependent uniforms of every node. */
  setPosition(pos: number): void;
  /** Where a tensor of the step lives (for reading logits in tests and tools). */
  binding(name: string): Binding;
  /** The prepared kernel of the node with this label (to change its settings, e.g. the sampler's). */
  kernel(label: string): PreparedKernel<ParamFields>;
  encode(pass: GPUComputePassEncoder): void;
  destroy(): void;
}

export async function prepareStep(
  ctx: GpuContext,
  graph: Graph,
  resources: ReadonlyMap<string, unknown>,
  ops: OpTable,
  label = "step",
): Promise<PreparedStep> {
  const plan = planBuffers(graph);
  const largest = Math.max(...plan.slots);
  if (largest > ctx.bindingLimit) {
    throw new SkiffError(
      "too-big-for-device",
      `${label}: an activation needs ${largest} bytes, more than one storage binding holds (${ctx.bindingLimit}); use a smaller prefill chunk`,
    );
  }
  const buffers = plan.slots.map((bytes, i) =>
    ctx.device.createBuffer({
      label: `${label}.slot${i}`,
      size: Math.ceil(bytes / 16) * 16,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    }),
  );
  const binding = (name: string): Binding => {
    const p = plan.placements[name];
    if (!p) throw new SkiffError("bad-argument", `${label}: no tensor ${name} in the step`);
    return { buffer: buffers[p.slot], offset: 0, size: Math.ceil(p.bytes / 4) * 4 };
  };
  let gate: GateBuffers | undefined;
  const resolve = (node: GraphNode): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node.args)) {
      if (isTensorRef(value)) out[key] = binding(value.tensor);
      else if (isResourceRef(value)) out[key] = resources.get(value.resource);
      else if (isStepRef(value)) {
        if (!gate)
          throw new SkiffError("bad-argument", `${label}: node ${node.label} reads ${value.step} of an ungated step`);
        out[key] = value.step === "gateArgs" ? gate.args : gate.table;
      } else out[key] = value;
    }
    return out;
  };
  const prepare = (node: GraphNode): Promise<PreparedKernel<ParamFields>> => {
    const launch = ops[node.op];
    if (!launch) throw new SkiffError("bad-argument", `${label}: node ${node.label} uses unknown op ${node.op}`);
    return launch(ctx, resolve(node)).catch((e: unknown) => {
      if (e instanceof SkiffError) throw new SkiffError(e.code, `${node.label}: ${e.message}`, { cause: e });
      throw e;
    });
  };
  // Nodes that read the gate buffers are prepared last: the table holds the grids of every gated node.
  const readsGate = (node: GraphNode) => Object.values(node.args).some(isStepRef);
  const kernels = new Map<GraphNode, PreparedKernel<ParamFields>>();
  try {
    for (const node of graph.nodes) if (!readsGate(node)) kernels.set(node, await prepare(node));
    gate = makeGateBuffers(ctx, graph, kernels, label);
    for (const node of graph.nodes) if (readsGate(node)) kernels.set(node, await prepare(node));
  } catch (e) {
    buffers.forEach((b) => b.destroy());
    gate?.destroy();
    throw e;
  }
  const prepared = graph.nodes.map((node) => ({ node, kernel: kernels.get(node)! }));
  const positional = prepared.filter((p) => p.node.positional);
  const dispatches = prepared.flatMap((p) => p.kernel.dispatches.map((d) => gate?.indirect.get(d) ?? d));
  return {
    graph,
    plan,
    dispatches,
    setPosition(pos) {
      for (const { node, kernel } of positional) {
        const values: Record<string, number> = {};
        for (const [field, offset] of Object.entries(node.positional!)) values[field] = pos + offset;
        kernel.update(values);
      }
    },
    binding,
    kernel(nodeLabel) {
      const found = prepared.find((p) => p.node.label === nodeLabel);
      if (!found) throw new SkiffError("bad-argument", `${label}: no node ${nodeLabel}`);
      return found.kernel;
    },
    encode(pass) {
      encodeDispatches(pass, dispatches);
    },
    destroy() {
      buffers.forEach((b) => b.destroy());
      gate?.destroy();
    },
  };
}

interface GateBuffers {
  /** 3 u32 per gated dispatch: the grid it runs with, written by the step (initially its full grid). */
  args: GPUBuffer;
  /** u32: gates + 1 offsets (the first gated dispatch of each gate, then the total), then 3 per dispatch: its grid. */
  table: GPUBuffer;
  /** Each gated dispatch and its indirect twin. */
  indirect: Map<Dispatch, Dispatch>;
  destroy(): void;
}

/** The argument buffer and grid table of a gated graph, or nothing when no node is gated. */
function makeGateBuffers(
  ctx: GpuContext,
  graph: Graph,
  kernels: ReadonlyMap<GraphNode, PreparedKernel<ParamFields>>,
  label: string,
): GateBuffers | undefined {
  const gates = graph.gates ?? 0;
  if (gates === 0) return undefined;
  const byGate: Dispatch[][] = Array.from({ length: gates }, () => []);
  for (const [node, kernel] of kernels) {
    if (node.gate === undefined) continue;
    if (!(Number.isInteger(node.gate) && node.gate >= 0 && node.gate < gates)) {
      throw new SkiffError("bad-argument", `${label}: node ${node.label} names gate ${node.gate} of ${gates}`);
    }
    byGate[node.gate].push(...kernel.dispatches);
  }
  const flat = byGate.flat();
  const table = new Uint32Array(gates + 1 + 3 * flat.length);
  let at = 0;
  byGate.forEach((list, g) => {
    table[g] = at;
    at += list.length;
  });
  table[gates] = at;
  flat.forEach((d, i) => table.set(d.workgroups, gates + 1 + 3 * i));
  const grids = table.subarray(gates + 1);
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
  const args = ctx.device.createBuffer({
    label: `${label}.gateArgs`,
    size: Math.max(16, Math.ceil(grids.byteLength / 16) * 16),
    usage: usage | GPUBufferUsage.INDIRECT,
  });
  ctx.device.queue.writeBuffer(args, 0, grids);
  const tableBuffer = ctx.device.createBuffer({
    label: `${label}.gateTable`,
    size: Math.ceil(table.byteLength / 16) * 16,
    usage,
  });
  ctx.device.queue.writeBuffer(tableBuffer, 0, table);
  const indirect = new Map(
    flat.map((d, i): [Dispatch, Dispatch] => [d, { ...d, indirect: { buffer: args, offset: 12 * i } }]),
  );
  return {
    args,
    table: tableBuffer,
    indirect,
    destroy() {
      args.destroy();
      tableBuffer.destroy();
    },
  };
}

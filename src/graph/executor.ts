// The executor: plans a graph's activations into reusable buffers, prepares every node's kernel once (pipelines,
// bind groups, uniforms), then records the whole step into one compute pass. Per step it only rewrites the
// uniforms that depend on the position.
import type { GpuContext } from "../gpu/device.ts";
import { SkiffError } from "../errors.ts";
import { encodeDispatches, type Binding, type Dispatch, type PreparedKernel } from "../kernels/dispatch.ts";
import type { ParamFields } from "../gpu/uniforms.ts";
import { isResourceRef, isTensorRef, type Graph, type GraphNode } from "./ir.ts";
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
  const resolve = (node: GraphNode): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node.args)) {
      if (isTensorRef(value)) out[key] = binding(value.tensor);
      else if (isResourceRef(value)) out[key] = resources.get(value.resource);
      else out[key] = value;
    }
    return out;
  };
  const prepared: { node: GraphNode; kernel: PreparedKernel<ParamFields> }[] = [];
  try {
    for (const node of graph.nodes) {
      const launch = ops[node.op];
      if (!launch) throw new SkiffError("bad-argument", `${label}: node ${node.label} uses unknown op ${node.op}`);
      const kernel = await launch(ctx, resolve(node)).catch((e: unknown) => {
        if (e instanceof SkiffError) throw new SkiffError(e.code, `${node.label}: ${e.message}`, { cause: e });
        throw e;
      });
      prepared.push({ node, kernel });
    }
  } catch (e) {
    buffers.forEach((b) => b.destroy());
    throw e;
  }
  const positional = prepared.filter((p) => p.node.positional);
  const dispatches = prepared.flatMap((p) => p.kernel.dispatches);
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
    },
  };
}

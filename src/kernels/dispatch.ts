// A prepared kernel invocation: pipeline, bind group, uniform buffer and grid, made once and encoded
// many times. Launchers return these, so nothing is created on the per-token path.
import type { GpuContext } from "../gpu/device.ts";
import { defineParams, type ParamFields, type ParamLayout, type ParamValues } from "../gpu/uniforms.ts";
import { SkiffError } from "../errors.ts";

export interface KernelSpec<F extends ParamFields> {
  /** Shader file stem, e.g. `rms-norm`. */
  name: string;
  source: string;
  params: ParamLayout<F>;
}

export function defineKernel<const F extends ParamFields>(name: string, source: string, fields: F): KernelSpec<F> {
  return { name, source, params: defineParams(fields) };
}

/** A buffer range bound to one storage binding. */
export interface Binding {
  buffer: GPUBuffer;
  offset?: number;
  size?: number;
}

export interface Dispatch {
  label: string;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number, number];
  /** Present when the grid is read from a GPU buffer (indirect dispatch). */
  indirect?: { buffer: GPUBuffer; offset: number };
}

export interface PreparedKernel<F extends ParamFields> {
  dispatches: Dispatch[];
  /** Rewrites the uniforms (e.g. the position at each decode step) with `queue.writeBuffer`. */
  update(values: Partial<ParamValues<F>>): void;
}

export interface PrepareOptions<F extends ParamFields> {
  ctx: GpuContext;
  kernel: KernelSpec<F>;
  /** Storage bindings in WGSL binding order, starting at @binding(0); the uniform comes last. */
  bindings: (GPUBuffer | Binding)[];
  params: ParamValues<F>;
  workgroups: [number, number?, number?];
  constants?: Record<string, number>;
  /** Replaces the kernel's source (a variant shader of the same op shares the launcher). */
  source?: string;
  variant?: string;
}

/** Builds one dispatch; callers that split a tensor call this once per piece. */
export async function prepareKernel<F extends ParamFields>(options: PrepareOptions<F>): Promise<PreparedKernel<F>> {
  const { ctx, kernel } = options;
  const name = options.variant ? `${kernel.name}:${options.variant}` : kernel.name;
  const pipeline = await ctx.pipelines.get({
    kernel: name,
    source: options.source ?? kernel.source,
    constants: options.constants,
  });
  const uniform = ctx.device.createBuffer({
    label: `${name}.params`,
    size: kernel.params.size,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  let current = { ...options.params };
  ctx.device.queue.writeBuffer(uniform, 0, kernel.params.encode(current));
  const entries: GPUBindGroupEntry[] = options.bindings.map((b, i) => {
    const binding = "buffer" in b ? b : { buffer: b };
    return { binding: i, resource: { buffer: binding.buffer, offset: binding.offset ?? 0, size: binding.size } };
  });
  entries.push({ binding: options.bindings.length, resource: { buffer: uniform } });
  const bindGroup = ctx.device.createBindGroup({ label: name, layout: pipeline.getBindGroupLayout(0), entries });
  const workgroups = foldGrid(ctx, options.workgroups, name);
  return {
    dispatches: [{ label: name, pipeline, bindGroup, workgroups }],
    update(values) {
      current = { ...current, ...values };
      ctx.device.queue.writeBuffer(uniform, 0, kernel.params.encode(current));
    },
  };
}

/** Joins prepared pieces (e.g. row chunks of a split tensor) into one prepared kernel. */
export function combine<F extends ParamFields>(parts: PreparedKernel<F>[]): PreparedKernel<F> {
  return {
    dispatches: parts.flatMap((p) => p.dispatches),
    update(values) {
      for (const p of parts) p.update(values);
    },
  };
}

/** Rejects grids larger than the device allows; kernels index with a 2-D fold where they need more. */
function foldGrid(ctx: GpuContext, grid: [number, number?, number?], name: string): [number, number, number] {
  const max = ctx.limits.maxComputeWorkgroupsPerDimension;
  const [x, y = 1, z = 1] = grid;
  if (x > max || y > max || z > max) {
    throw new SkiffError("bad-shape", `kernel ${name}: grid ${x}x${y}x${z} exceeds ${max} workgroups per dimension`);
  }
  return [Math.max(1, x), Math.max(1, y), Math.max(1, z)];
}

export function encodeDispatches(pass: GPUComputePassEncoder, dispatches: Dispatch[]): void {
  for (const d of dispatches) {
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.bindGroup);
    if (d.indirect) pass.dispatchWorkgroupsIndirect(d.indirect.buffer, d.indirect.offset);
    else pass.dispatchWorkgroups(...d.workgroups);
  }
}

/** Encodes dispatches in one compute pass, submits, and waits for the queue: for tests and benchmarks. */
export async function runDispatches(ctx: GpuContext, dispatches: Dispatch[]): Promise<void> {
  const encoder = ctx.device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  encodeDispatches(pass, dispatches);
  pass.end();
  ctx.device.queue.submit([encoder.finish()]);
  await ctx.device.queue.onSubmittedWorkDone();
}

export function ceilDiv(a: number, b: number): number {
  return Math.floor((a + b - 1) / b);
}

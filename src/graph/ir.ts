// The graph IR: a model step is a list of nodes, each an op of the kernel table applied to named activation
// tensors, named weights and plain numbers. Built once per step shape; planned and prepared once.

/** An activation produced and consumed inside the step (f32 unless `words` says otherwise). */
export interface TensorRef {
  tensor: string;
}
/** A weight or other long-lived buffer bound by name (weights, the KV cache, the token buffer). */
export interface ResourceRef {
  resource: string;
}
/** A buffer the executor makes for the step itself: the indirect grids of gated nodes ("gateArgs") and the table of
 *  their full grids by gate ("gateTable"); see `GraphNode.gate`. */
export interface StepRef {
  step: "gateArgs" | "gateTable";
}
export type ArgValue = number | string | boolean | TensorRef | ResourceRef | StepRef | undefined;

export interface GraphNode {
  /** A key of the kernel table (src/kernels/index.ts). */
  op: string;
  /** Shown in errors and debug logs, e.g. `layers.3.wq`. */
  label: string;
  args: Record<string, ArgValue>;
  /** Tensors this node writes (others in `args` are read). */
  writes: string[];
  /** Uniform fields set from the step's position at run time: field name -> offset added to the position. */
  positional?: Record<string, number>;
  /**
   * Gate (0 <= gate < Graph.gates) whose switch this node's dispatches obey: they are dispatched indirectly, with
   * grids a node of the step writes at run time into the "gateArgs" buffer (its full grid to run, zeros to skip).
   */
  gate?: number;
}

export interface Graph {
  /** Size in 32-bit words of every activation tensor. */
  tensors: Record<string, number>;
  nodes: GraphNode[];
  /** Number of gates that nodes name (0 or absent: nothing is gated). */
  gates?: number;
}

export const tensor = (name: string): TensorRef => ({ tensor: name });
export const resource = (name: string): ResourceRef => ({ resource: name });

export function isTensorRef(v: ArgValue): v is TensorRef {
  return typeof v === "object" && v !== null && "tensor" in v;
}
export function isResourceRef(v: ArgValue): v is ResourceRef {
  return typeof v === "object" && v !== null && "resource" in v;
}
export function isStepRef(v: ArgValue): v is StepRef {
  return typeof v === "object" && v !== null && "step" in v;
}
export const stepBuffer = (name: StepRef["step"]): StepRef => ({ step: name });

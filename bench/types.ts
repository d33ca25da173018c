// Shapes of the benchmark's input (bench/cases.json) and output (bench/results/kernels-<date>.json).

export type WeightType = "q4_0" | "q8_0" | "f16" | "f32";

/** A peer run on the same shape: onnxruntime-web's MatMul / MatMulNBits, or tfjs-backend-webgpu's matMul. */
export type PeerSpec =
  | { kind: "ort"; op: "MatMul" }
  | { kind: "ort"; op: "MatMulNBits"; bits: 4 | 8; accuracyLevel?: number }
  | { kind: "tfjs" };

export interface RunBudget {
  /** Most timed runs; fewer when one run is slow (see budgetMs). */
  runs: number;
  /** Timed runs stop once this much wall time is spent, but never before `minRuns`. */
  budgetMs: number;
  minRuns: number;
  warmup: number;
  /** A warm-up run slower than this is the only sample (see bench/timing.ts). */
  slowMs: number;
}

export interface MatmulCase {
  id: string;
  op: "matmul";
  /** y(m, n) = x(m, k) @ W(n, k)ᵀ: m = 1 is a GEMV, larger m a GEMM. */
  m: number;
  k: number;
  n: number;
  type: WeightType;
  /** "2:4" etc.: W is N:M sparse (random kept columns); Skiff runs its sparse kernels and, beside them, its dense
   *  ones on the same tensor with the zeros written out. */
  sparsity?: string;
  /** Also time the default Skiff kernels with no weight loads (bench/arithmetic-floor.ts): the bound of their
   *  arithmetic, against which a bandwidth target can be judged. */
  floor?: boolean;
  peers: PeerSpec[];
  budget?: Partial<RunBudget>;
}

export interface AttentionCase {
  id: string;
  op: "attention-decode" | "attention-prefill";
  /** Decode: KV positions attended by one query token. Prefill: tokens, attended causally. */
  seqLen: number;
  nHeads: number;
  nKvHeads: number;
  headSize: number;
  budget?: Partial<RunBudget>;
}

export type BenchCase = MatmulCase | AttentionCase;

export interface RatioSpec {
  name: string;
  case: string;
  /** "ort": the fastest onnxruntime-web flavour/variant; "tfjs"; "copy": weight GB/s over the copy shader's GB/s;
   *  "dense": a sparse case's dense baseline in the default variant (time over the sparse default's). */
  against: "ort" | "tfjs" | "copy" | "dense";
  target: number;
}

export interface CasesFile {
  defaultBudget: RunBudget;
  copy: { bytes: number; budget?: Partial<RunBudget> };
  ortFlavours: string[];
  cases: BenchCase[];
  ratios: RatioSpec[];
}

export interface TimingStats {
  medianMs: number;
  minMs: number;
  samplesMs: number[];
  /** The single sample is the warm-up run (it took longer than the budget's slowMs). */
  warmupCounted?: boolean;
}

export interface ContenderResult {
  /** e.g. "skiff gemv rowwise", "ort jsep MatMulNBits", "tfjs matMul". */
  name: string;
  family: "skiff" | "ort" | "tfjs";
  variant?: string;
  /** The variant the launcher picks on this device when none is asked for. */
  isDefault?: boolean;
  /** Sparse cases: the dense kernel on the same tensor, zeros written out (the sparse kernels' baseline). */
  baseline?: boolean;
  /** The kernel's arithmetic floor: the same kernel with no weight loads (bench/arithmetic-floor.ts). Its output is
   *  not checked, and it never stands for the kernel in a ratio. */
  floor?: boolean;
  /** Wall clock around submit + wait for the queue, inputs/weights/outputs resident on the GPU: same for everyone. */
  wall?: TimingStats;
  /** GPU timestamps around the compute pass (Skiff only, where the device has timestamp-query). */
  gpu?: TimingStats & { source: "timestamp" | "wall" };
  /** Bytes of weights (or KV cache) this contender reads per run, in its own format. */
  weightBytes: number;
  /** What the timed interval holds. */
  timed: string;
  error?: string;
  /** onnxruntime only: where the session placed the nodes (from its verbose log). */
  placement?: string;
  gflops?: number;
  gbps?: number;
  /** gbps over the copy shader's GB/s measured in the same run. */
  copyFraction?: number;
  gpuGflops?: number;
  gpuGbps?: number;
  gpuCopyFraction?: number;
}

export interface CaseResult {
  id: string;
  title: string;
  flops: number;
  contenders: ContenderResult[];
  /** Set when the case itself failed before any contender ran. */
  error?: string;
}

export interface CopyResult {
  bytes: number;
  /** Bytes read plus bytes written per run (2 x bytes), the usual STREAM-copy convention. */
  movedBytes: number;
  wall?: TimingStats;
  gpu?: TimingStats & { source: "timestamp" | "wall" };
  gbps?: number;
  gpuGbps?: number;
  error?: string;
}

export interface RatioResult extends RatioSpec {
  value?: number;
  met?: boolean;
  /** Which contenders were compared, or why no value. */
  detail: string;
  /** Where the case has an arithmetic floor: the ratio with Skiff's kernel replaced by its floor (peers and
   *  baselines stay real). Below the target, no layout of the same arithmetic can meet it on this device. */
  floor?: { value: number; met: boolean; detail: string };
}

export interface BenchResults {
  date: string;
  userAgent: string;
  adapter: { vendor: string; architecture: string; device: string; description: string; isCpuAdapter: boolean };
  features: { shaderF16: boolean; subgroups: boolean; timestampQuery: boolean };
  method: string;
  copy: CopyResult;
  cases: CaseResult[];
  ratios: RatioResult[];
  /** Peers (and onnxruntime-web flavours) that loaded, described. */
  peers: string[];
  /** Peers or flavours that failed to load, with the error text. */
  loadErrors: { peer: string; error: string }[];
  durationS: number;
  fatal?: string;
}

// onnxruntime-web as a peer: every WebGPU flavour it ships, each running one-node MatMul / MatMulNBits models built in
// memory, with the input and output kept on the GPU (IO binding) so no transfer is timed.
import type * as OrtModule from "onnxruntime-web";
import { matMulModel, matMulNBitsModel, randomNBitsWeight } from "../onnx-model.ts";
import { errorText, timeWall } from "../timing.ts";
import { dotReference, spotCheck } from "../spot-check.ts";
import { readF32 } from "../../src/gpu/readback.ts";
import type { ContenderResult, MatmulCase, PeerSpec, RunBudget } from "../types.ts";
import { randomF32 } from "../../src/kernels/testing.ts";

type Ort = typeof OrtModule;
type OrtPeer = Extract<PeerSpec, { kind: "ort" }>;

export interface OrtFlavour {
  id: string;
  description: string;
  load(): Promise<Ort>;
}

/** The builds in node_modules/onnxruntime-web/dist with a WebGPU execution provider (see its package.json exports). */
export const ORT_FLAVOURS: Record<string, OrtFlavour> = {
  jsep: {
    id: "jsep",
    description: "onnxruntime-web: JSEP WebGPU backend (ort.bundle.min.mjs + ort-wasm-simd-threaded.jsep.wasm)",
    load: () => import("onnxruntime-web"),
  },
  webgpu: {
    id: "webgpu",
    description: "onnxruntime-web/webgpu: native WebGPU EP (ort.webgpu.bundle.min.mjs + asyncify wasm)",
    load: () => import("onnxruntime-web/webgpu"),
  },
  jspi: {
    id: "jspi",
    description: "onnxruntime-web/jspi: native WebGPU EP (ort.jspi.bundle.min.mjs + JSPI wasm)",
    load: () => import("onnxruntime-web/jspi"),
  },
};

/** ORT's MatMulNBits block size; the Q4_0/Q8_0 blocks are 32 too. */
const BLOCK = 32;

/** Served by Vite straight from node_modules: the benchmark runs offline, never from a CDN. */
const WASM_PATHS = "/node_modules/onnxruntime-web/dist/";

export interface LoadedOrt {
  flavour: OrtFlavour;
  ort: Ort;
}

export async function loadOrt(id: string): Promise<LoadedOrt> {
  const flavour = ORT_FLAVOURS[id];
  if (!flavour) throw new Error(`unknown onnxruntime-web flavour "${id}" (known: ${Object.keys(ORT_FLAVOURS)})`);
  installLogTap();
  const ort = await flavour.load();
  ort.env.wasm.wasmPaths = WASM_PATHS;
  // The page is not cross-origin isolated, so wasm threads are unavailable; one thread also leaves SwiftShader its cores.
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = "error";
  return { flavour, ort };
}

export function ortContenderName(flavour: string, peer: OrtPeer): string {
  if (peer.op === "MatMul") return `ort ${flavour} MatMul`;
  const level = peer.accuracyLevel ? ` acc${peer.accuracyLevel}` : "";
  return `ort ${flavour} MatMulNBits${peer.bits}${level}`;
}

function weightBytes(c: MatmulCase, peer: OrtPeer): number {
  if (peer.op === "MatMul") return c.k * c.n * 4;
  // Packed codes plus one f32 scale per block of 32.
  return (c.k * c.n * peer.bits) / 8 + (c.k / 32) * c.n * 4;
}

interface BuiltModel {
  bytes: Uint8Array;
  /** W(col, j) as the model defines it, for the spot check. */
  weight(col: number, j: number): number;
}

function buildModel(c: MatmulCase, peer: OrtPeer, random: () => number): BuiltModel {
  if (peer.op === "MatMul") {
    const b = randomF32(c.k * c.n, random, 0.05);
    return { bytes: matMulModel(c.m, c.k, c.n, b), weight: (col, j) => b[j * c.n + col] };
  }
  const w = randomNBitsWeight(c.k, c.n, peer.bits, BLOCK, random);
  const zero = 1 << (peer.bits - 1);
  const blocks = c.k / BLOCK;
  const rowBytes = (c.k * peer.bits) / 8;
  const code =
    peer.bits === 8
      ? (col: number, j: number) => w.packed[col * rowBytes + j]
      : (col: number, j: number) => (w.packed[col * rowBytes + (j >> 1)] >> ((j & 1) * 4)) & 0xf;
  return {
    bytes: matMulNBitsModel(c.m, c.k, c.n, w, peer.accuracyLevel ?? 0),
    weight: (col, j) => (code(col, j) - zero) * w.scales[col * blocks + Math.floor(j / BLOCK)],
  };
}

/** Times one ORT flavour on one case; failures come back as a result with `error` set, never thrown. */
export async function benchOrt(
  loaded: LoadedOrt,
  c: MatmulCase,
  peer: OrtPeer,
  budget: RunBudget,
  random: () => number,
): Promise<ContenderResult> {
  const { ort, flavour } = loaded;
  const result: ContenderResult = {
    name: ortContenderName(flavour.id, peer),
    family: "ort",
    variant: flavour.id,
    weightBytes: weightBytes(c, peer),
    timed: "await session.run() with GPU-resident input and output tensors, then queue.onSubmittedWorkDone()",
  };
  let session: OrtModule.InferenceSession | undefined;
  const buffers: GPUBuffer[] = [];
  try {
    const model = buildModel(c, peer, random);
    const placement = await capturePlacement(async () => {
      session = await ort.InferenceSession.create(model.bytes, {
        executionProviders: ["webgpu"],
        preferredOutputLocation: "gpu-buffer",
        // Verbose session logs name the provider each node was placed on: proof that nothing fell back to the CPU.
        logSeverityLevel: 0,
        logVerbosityLevel: 0,
      });
    });
    result.placement = placement;
    if (!placement.includes("All nodes placed on [") || placement.includes("CPUExecutionProvider")) {
      throw new Error(`nodes not all on the WebGPU provider: ${placement || "no placement logged"}`);
    }
    const s = session!;
    const device = (await ort.env.webgpu.device) as GPUDevice;
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const aBuf = device.createBuffer({ size: c.m * c.k * 4, usage });
    const yBuf = device.createBuffer({ size: c.m * c.n * 4, usage });
    buffers.push(aBuf, yBuf);
    const aData = randomF32(c.m * c.k, random);
    device.queue.writeBuffer(aBuf, 0, aData as Float32Array<ArrayBuffer>);
    const a = ort.Tensor.fromGpuBuffer(aBuf, { dataType: "float32", dims: [c.m, c.k] });
    const y = ort.Tensor.fromGpuBuffer(yBuf, { dataType: "float32", dims: [c.m, c.n] });
    const runOptions = { logSeverityLevel: 3 as const };
    let readOutput = () => readF32(device, yBuf, 0, c.m * c.n);
    let step = async () => {
      await s.run({ a }, { y }, runOptions);
      await device.queue.onSubmittedWorkDone();
    };
    try {
      await step();
    } catch (e) {
      // Some builds cannot write into a caller's buffer: let ORT allocate the output on the GPU instead.
      let last: OrtModule.Tensor | undefined;
      step = async () => {
        last?.dispose();
        last = (await s.run({ a }, runOptions)).y;
        await device.queue.onSubmittedWorkDone();
      };
      readOutput = async () => (await last!.getData()) as Float32Array;
      result.timed =
        "await session.run() with a GPU-resident input, output left on the GPU by ORT " +
        `(a preallocated output failed: ${errorText(e)}), then queue.onSubmittedWorkDone()`;
    }
    result.wall = await timeWall(step, budget);
    spotCheck(await readOutput(), c.m, c.n, (row, col) =>
      dotReference(aData, row * c.k, c.k, (j) => model.weight(col, j)),
    );
  } catch (e) {
    result.error = errorText(e);
  } finally {
    await session?.release().catch(() => undefined);
    for (const b of buffers) b.destroy();
  }
  return result;
}

// onnxruntime's wasm binds console.log & co. when it starts, so its log lines can only be caught by a wrapper that is
// in place before the first session: installed once by loadOrt, it hands them to `logSink` while one is open.
const CONSOLE_METHODS = ["log", "info", "warn", "error", "debug"] as const;
const ORT_LINE = /\[[VIWEF]:onnxruntime/;
let logSink: string[] | undefined;
let tapped = false;

function installLogTap(): void {
  if (tapped) return;
  tapped = true;
  for (const m of CONSOLE_METHODS) {
    const original = console[m].bind(console);
    console[m] = (...args: unknown[]) => {
      const text = args.map(String).join(" ");
      if (ORT_LINE.test(text)) {
        if (logSink) logSink.push(text);
        // Verbose and info lines only matter while a session is being created; warnings and errors go through.
        if (logSink || /\[[VI]:/.test(text)) return;
      }
      original(...args);
    };
  }
}

/** Runs `body` (a session creation with verbose session logs) and returns onnxruntime's node-placement report. */
async function capturePlacement(body: () => Promise<void>): Promise<string> {
  const lines: string[] = [];
  logSink = lines;
  try {
    await body();
  } finally {
    logSink = undefined;
  }
  return lines
    .filter((l) => /VerifyEachNodeIsAssignedToAnEp/.test(l))
    .map((l) => l.replace(/^.*VerifyEachNodeIsAssignedToAnEp\]\s*/, "").trim())
    .filter((l) => l && l !== "Node placements")
    .join("; ");
}

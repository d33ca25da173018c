// Adapter and device: feature detection, the adapter's largest limits, and device loss as an event.
import { SkiffError } from "../errors.ts";
import { PipelineCache } from "./pipeline-cache.ts";
import { BufferPool } from "./buffer-pool.ts";
import { KernelTuner } from "../kernels/tuning.ts";

export interface GpuFeatures {
  shaderF16: boolean;
  subgroups: boolean;
  timestampQuery: boolean;
}

export interface GpuContext {
  device: GPUDevice;
  adapterInfo: { vendor: string; architecture: string; device: string; description: string };
  features: GpuFeatures;
  limits: GPUSupportedLimits;
  /** Largest byte size one storage binding may have; launchers split anything larger by rows.
   *  Starts at the device limit; tests lower it to exercise splitting. */
  bindingLimit: number;
  /** True for CPU implementations of WebGPU (SwiftShader, lavapipe): barrier-free kernels win there. */
  isCpuAdapter: boolean;
  pipelines: PipelineCache;
  pool: BufferPool;
  /** Which variant each hot op runs (src/kernels/tuning.ts). */
  tuner: KernelTuner;
  /** Fires "lost" with a SkiffError in `detail` when the device goes away, "gpu-error" with a message on
   *  any uncaptured validation or memory error. */
  events: EventTarget;
  lost: boolean;
}

export interface CreateGpuContextOptions {
  powerPreference?: GPUPowerPreference;
  /** Turn features off even when the adapter has them (for tests of the fallback paths). */
  disableFeatures?: Partial<Record<keyof GpuFeatures, boolean>>;
}

const WANTED_LIMITS = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupsPerDimension",
  "maxStorageBuffersPerShaderStage",
] as const;

export async function createGpuContext(options: CreateGpuContextOptions = {}): Promise<GpuContext> {
  const gpu = typeof navigator !== "undefined" ? navigator.gpu : undefined;
  if (!gpu) {
    throw new SkiffError(
      "no-webgpu",
      "WebGPU is not available in this browser: use a recent Chrome or Edge, or enable WebGPU (chrome://flags/#enable-unsafe-webgpu)",
    );
  }
  const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? "high-performance" });
  if (!adapter) {
    throw new SkiffError("no-webgpu", "WebGPU is present but no GPU adapter was found (is hardware acceleration off?)");
  }
  const off = options.disableFeatures ?? {};
  const features: GpuFeatures = {
    shaderF16: adapter.features.has("shader-f16") && !off.shaderF16,
    subgroups: adapter.features.has("subgroups") && !off.subgroups,
    timestampQuery: adapter.features.has("timestamp-query") && !off.timestampQuery,
  };
  const requiredFeatures: GPUFeatureName[] = [];
  if (features.shaderF16) requiredFeatures.push("shader-f16");
  if (features.subgroups) requiredFeatures.push("subgroups" as GPUFeatureName);
  if (features.timestampQuery) requiredFeatures.push("timestamp-query");
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) requiredLimits[name] = adapter.limits[name];

  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  const info = adapter.info;
  const adapterInfo = {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
  };
  const ctx: GpuContext = {
    device,
    adapterInfo,
    features,
    limits: device.limits,
    bindingLimit: Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize),
    isCpuAdapter: isCpuImplementation(adapterInfo),
    pipelines: new PipelineCache(device),
    pool: new BufferPool(device),
    tuner: new KernelTuner(),
    events: new EventTarget(),
    lost: false,
  };
  // Validation errors outside an error scope would otherwise only reach the console.
  device.addEventListener("uncapturederror", (e) => {
    const message = (e as GPUUncapturedErrorEvent).error.message;
    ctx.events.dispatchEvent(new CustomEvent("gpu-error", { detail: message }));
    console.error(`skiff: GPU error: ${message}`);
  });
  device.lost.then((lost) => {
    ctx.lost = true;
    const error = new SkiffError(
      "device-lost",
      `The GPU device was lost (${lost.reason}): ${lost.message || "no message"}`,
    );
    ctx.events.dispatchEvent(new CustomEvent("lost", { detail: error }));
  });
  return ctx;
}

/** CPU implementations of Vulkan/WebGPU report themselves in the adapter info. */
export function isCpuImplementation(info: { vendor: string; architecture: string; description: string }): boolean {
  const text = `${info.vendor} ${info.architecture} ${info.description}`.toLowerCase();
  return /swiftshader|llvmpipe|lavapipe|software|microsoft basic render/.test(text);
}

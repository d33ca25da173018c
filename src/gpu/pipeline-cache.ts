// Compute pipelines made once per (kernel, variant, constants) and reused; compile errors name the kernel.
import { SkiffError } from "../errors.ts";

export interface PipelineRequest {
  /** Kernel name, the shader's file stem: appears in errors and labels. */
  kernel: string;
  source: string;
  entryPoint?: string;
  /** Values for WGSL `override` constants; part of the cache key. */
  constants?: Record<string, number>;
}

export class PipelineCache {
  private readonly pipelines = new Map<string, Promise<GPUComputePipeline>>();
  private readonly modules = new Map<string, GPUShaderModule>();
  constructor(private readonly device: GPUDevice) {}

  get size(): number {
    return this.pipelines.size;
  }

  /** Async because compile errors are only known after `getCompilationInfo`. */
  get(request: PipelineRequest): Promise<GPUComputePipeline> {
    const constants = request.constants ?? {};
    const key = `${request.kernel}|${request.entryPoint ?? "main"}|${Object.entries(constants)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${v}`)
      .join(",")}`;
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      pipeline = this.create(request, constants);
      this.pipelines.set(key, pipeline);
      pipeline.catch(() => this.pipelines.delete(key));
    }
    return pipeline;
  }

  private async create(request: PipelineRequest, constants: Record<string, number>): Promise<GPUComputePipeline> {
    const module = await this.module(request.kernel, request.source);
    this.device.pushErrorScope("validation");
    const pipeline = await this.device
      .createComputePipelineAsync({
        label: request.kernel,
        layout: "auto",
        compute: { module, entryPoint: request.entryPoint ?? "main", constants },
      })
      .catch((e: unknown) => {
        throw new SkiffError("shader-compile", `kernel ${request.kernel}: pipeline creation failed: ${String(e)}`);
      });
    const error = await this.device.popErrorScope();
    if (error) throw new SkiffError("shader-compile", `kernel ${request.kernel}: ${error.message}`);
    return pipeline;
  }

  private async module(kernel: string, source: string): Promise<GPUShaderModule> {
    const key = `${kernel}\n${source}`;
    const cached = this.modules.get(key);
    if (cached) return cached;
    const module = this.device.createShaderModule({ label: kernel, code: source });
    const info = await module.getCompilationInfo();
    const errors = info.messages.filter((m) => m.type === "error");
    if (errors.length > 0) {
      const text = errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join("; ");
      throw new SkiffError("shader-compile", `kernel ${kernel} failed to compile: ${text}`);
    }
    this.modules.set(key, module);
    return module;
  }
}

// Storage buffers reused by size class, so scratch space is not re-allocated between runs.

export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private liveBytes = 0;
  constructor(private readonly device: GPUDevice) {}

  /** Bytes held by buffers handed out and not yet destroyed. */
  get bytes(): number {
    return this.liveBytes;
  }

  /** A storage buffer of at least `size` bytes (rounded up to a power-of-two class above 4 KiB). */
  acquire(size: number, label = "pooled"): GPUBuffer {
    const cls = sizeClass(size);
    const list = this.free.get(cls);
    const reused = list?.pop();
    if (reused) return reused;
    this.liveBytes += cls;
    return this.device.createBuffer({
      label,
      size: cls,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
  }

  release(buffer: GPUBuffer): void {
    const list = this.free.get(buffer.size) ?? [];
    list.push(buffer);
    this.free.set(buffer.size, list);
  }

  /** Destroys every buffer waiting in the pool. */
  trim(): void {
    for (const list of this.free.values()) {
      for (const b of list) {
        this.liveBytes -= b.size;
        b.destroy();
      }
    }
    this.free.clear();
  }
}

export function sizeClass(size: number): number {
  const bytes = Math.max(16, Math.ceil(size / 4) * 4);
  if (bytes <= 4096) return Math.ceil(bytes / 256) * 256;
  return 2 ** Math.ceil(Math.log2(bytes));
}

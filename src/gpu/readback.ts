// Copies a GPU buffer range back to the CPU: the only way results leave the GPU.

export async function readBuffer(
  device: GPUDevice,
  source: GPUBuffer,
  offset = 0,
  size = source.size - offset,
): Promise<ArrayBuffer> {
  const staging = device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const encoder = device.createCommandEncoder({ label: "readback" });
  encoder.copyBufferToBuffer(source, offset, staging, 0, size);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const copy = staging.getMappedRange().slice(0);
  staging.destroy();
  return copy;
}

export async function readF32(device: GPUDevice, source: GPUBuffer, offset = 0, count?: number): Promise<Float32Array> {
  const size = count === undefined ? source.size - offset : count * 4;
  return new Float32Array(await readBuffer(device, source, offset, size));
}

export async function readU32(device: GPUDevice, source: GPUBuffer, offset = 0, count?: number): Promise<Uint32Array> {
  const size = count === undefined ? source.size - offset : count * 4;
  return new Uint32Array(await readBuffer(device, source, offset, size));
}

/** A storage buffer filled from typed data (size rounded up to 4 bytes). */
export function uploadBuffer(device: GPUDevice, data: ArrayBufferView, label = "upload", extraUsage = 0): GPUBuffer {
  const size = Math.max(16, Math.ceil(data.byteLength / 4) * 4);
  const buffer = device.createBuffer({
    label,
    size,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC | extraUsage,
    mappedAtCreation: true,
  });
  new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  buffer.unmap();
  return buffer;
}

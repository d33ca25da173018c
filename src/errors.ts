// The one error type Skiff throws: a stable `code` for programs and a message a person can act on.

export type SkiffErrorCode =
  | "no-webgpu"
  | "device-lost"
  | "shader-compile"
  | "bad-shape"
  | "bad-argument"
  | "unsupported-type"
  | "unsupported-architecture"
  | "unsupported-tokenizer"
  | "bad-gguf"
  | "too-big-for-device"
  | "quota-exceeded"
  | "aborted";

export class SkiffError extends Error {
  readonly code: SkiffErrorCode;
  constructor(code: SkiffErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SkiffError";
    this.code = code;
  }
}

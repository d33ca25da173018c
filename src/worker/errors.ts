// Comlink carries thrown errors as message, name and stack only; this handler keeps SkiffError's `code`
// across the worker boundary. Registered on both sides (worker and page).
import * as Comlink from "comlink";
import { SkiffError, type SkiffErrorCode } from "../errors.ts";

interface SerializedThrow {
  isError: boolean;
  value: unknown;
}

export function registerErrorTransfer(): void {
  const original = Comlink.transferHandlers.get("throw") as Comlink.TransferHandler<unknown, SerializedThrow>;
  Comlink.transferHandlers.set("throw", {
    canHandle: original.canHandle,
    serialize(thrown: unknown) {
      const value = (thrown as { value: unknown }).value;
      if (value instanceof SkiffError) {
        return [{ isError: true, value: { name: value.name, message: value.message, code: value.code } }, []];
      }
      return original.serialize(thrown);
    },
    deserialize(serialized: SerializedThrow) {
      const v = serialized.value as { name?: string; message?: string; code?: SkiffErrorCode };
      if (serialized.isError && v?.code) throw new SkiffError(v.code, v.message ?? "");
      return original.deserialize(serialized);
    },
  } as Comlink.TransferHandler<unknown, SerializedThrow>);
}

// Kernel choices measured on a device, kept in IndexedDB under the adapter's identity and the Skiff version, so a
// later load on the same device and version reuses them without timing anything; any other adapter or version
// finds nothing and tunes afresh.
import { createStore, del, get, set, type UseStore } from "idb-keyval";
import type { KernelChoice } from "../kernels/tuning.ts";

export interface AdapterIdentity {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

export interface StoredTuning {
  adapter: AdapterIdentity;
  version: string;
  /** By op-and-shape key (src/kernels/tuning.ts). */
  choices: Record<string, KernelChoice>;
  updatedAt: number;
}

export class TuningStore {
  private readonly db: UseStore;

  constructor(prefix = "skiff") {
    this.db = createStore(`${prefix}-tuning`, "tuning");
  }

  static key(adapter: AdapterIdentity, version: string): string {
    return JSON.stringify([version, adapter.vendor, adapter.architecture, adapter.device, adapter.description]);
  }

  async load(adapter: AdapterIdentity, version: string): Promise<Record<string, KernelChoice>> {
    const stored = await get<StoredTuning>(TuningStore.key(adapter, version), this.db);
    return stored?.choices ?? {};
  }

  /** Merges `choices` into what is stored for this adapter and version. */
  async save(adapter: AdapterIdentity, version: string, choices: Record<string, KernelChoice>): Promise<void> {
    const key = TuningStore.key(adapter, version);
    const before = await get<StoredTuning>(key, this.db);
    const entry: StoredTuning = {
      adapter,
      version,
      choices: { ...before?.choices, ...choices },
      updatedAt: Date.now(),
    };
    await set(key, entry, this.db);
  }

  async clear(adapter: AdapterIdentity, version: string): Promise<void> {
    await del(TuningStore.key(adapter, version), this.db);
  }
}

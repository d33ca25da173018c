// The model store in IndexedDB (the only user of idb-keyval): a manifest per model and its tensor planes in
// chunks of a few MiB. A manifest is written first as incomplete and marked complete last, so an import
// that dies half-way is never listed as usable; `removeIncomplete` cleans such leftovers.
import { createStore, del, delMany, get, keys, set, setMany, type UseStore } from "idb-keyval";
import { SkiffError } from "../errors.ts";

export const CHUNK_BYTES = 4 << 20;
/** Bumped whenever the stored layout (repacked planes or manifest shape) changes; older entries are then re-imported. */
export const LAYOUT_VERSION = 2;

export interface StoredPlane {
  byteLength: number;
  chunkKeys: string[];
  /** SHA-256 of the plane's bytes, hex. */
  sha256: string;
}

export interface StoredTensor {
  name: string;
  dtype: string;
  /** [rows, cols] for matrices, [n] for vectors. */
  shape: number[];
  /**
   * "2:4" etc. when the matrix is stored N:M-compressed (planes positions, values, scales: src/loaders/sparse-nm.ts)
   * rather than dense (codes, scales: repack.ts). `dtype` is the type of its values either way.
   */
  sparse?: string;
  planes: Record<string, StoredPlane>;
}

export interface ModelManifest<Config = unknown, Tokenizer = unknown> {
  id: string;
  name: string;
  /** Where it came from (file name or URL), for the model list. */
  source: string;
  createdAt: number;
  complete: boolean;
  layoutVersion: number;
  /** Bytes the stored planes take. */
  storedBytes: number;
  config: Config;
  tokenizer: Tokenizer;
  tensors: StoredTensor[];
}

export interface StorageUsage {
  usedBytes: number;
  quotaBytes: number;
  persisted: boolean;
}

export class ModelStore {
  private readonly manifests: UseStore;
  private readonly chunks: UseStore;

  /** idb-keyval cannot add a second object store to a database, so each store gets its own database. */
  constructor(prefix = "skiff") {
    this.manifests = createStore(`${prefix}-manifests`, "manifests");
    this.chunks = createStore(`${prefix}-chunks`, "chunks");
  }

  /** Complete models only: an interrupted import never shows up here. */
  async list(): Promise<ModelManifest[]> {
    const all = await this.allManifests();
    return all
      .filter((m) => m.complete && m.layoutVersion === LAYOUT_VERSION)
      .sort((a, b) => b.createdAt - a.createdAt);
  }

  async manifest(id: string): Promise<ModelManifest | undefined> {
    const m = await get<ModelManifest>(id, this.manifests);
    return m && m.complete && m.layoutVersion === LAYOUT_VERSION ? m : undefined;
  }

  async remove(id: string): Promise<void> {
    const chunkKeys = (await keys<string>(this.chunks)).filter((k) => k.startsWith(`${id}/`));
    // The manifest goes first, so a crash between the two leaves orphan chunks, never a listed model without data.
    await del(id, this.manifests);
    if (chunkKeys.length) await delMany(chunkKeys, this.chunks);
  }

  /** Deletes what interrupted imports and older layouts left behind. */
  async removeIncomplete(): Promise<string[]> {
    const stale = (await this.allManifests()).filter((m) => !m.complete || m.layoutVersion !== LAYOUT_VERSION);
    for (const m of stale) await this.remove(m.id);
    const known = new Set((await this.allManifests()).map((m) => m.id));
    const orphans = (await keys<string>(this.chunks)).filter((k) => !known.has(k.split("/")[0]));
    if (orphans.length) await delMany(orphans, this.chunks);
    return stale.map((m) => m.id);
  }

  async usage(): Promise<StorageUsage> {
    const storage = typeof navigator !== "undefined" ? navigator.storage : undefined;
    const estimate = storage?.estimate ? await storage.estimate() : {};
    const persisted = storage?.persisted ? await storage.persisted() : false;
    return { usedBytes: estimate.usage ?? 0, quotaBytes: estimate.quota ?? 0, persisted };
  }

  /** Starts an import: checks the quota, asks for persistence, writes the incomplete manifest. */
  async beginImport<C, T>(
    base: Omit<ModelManifest<C, T>, "complete" | "tensors" | "storedBytes" | "createdAt" | "layoutVersion">,
    expectedBytes: number,
  ): Promise<ImportWriter<C, T>> {
    const storage = typeof navigator !== "undefined" ? navigator.storage : undefined;
    if (storage?.persist) await storage.persist().catch(() => false);
    const { usedBytes, quotaBytes } = await this.usage();
    if (quotaBytes > 0 && quotaBytes - usedBytes < expectedBytes) {
      throw new SkiffError(
        "quota-exceeded",
        `Not enough storage for ${base.name}: it needs ${mib(expectedBytes)} and the browser allows ${mib(Math.max(0, quotaBytes - usedBytes))} more. Delete a model or free disk space.`,
      );
    }
    await this.remove(base.id);
    const manifest: ModelManifest<C, T> = {
      ...base,
      complete: false,
      tensors: [],
      storedBytes: 0,
      createdAt: Date.now(),
      layoutVersion: LAYOUT_VERSION,
    };
    await set(base.id, manifest, this.manifests);
    return new ImportWriter(this, manifest, this.manifests, this.chunks);
  }

  /** Reads one stored plane back, checking its checksum. */
  async readPlane(id: string, tensor: StoredTensor, plane: string): Promise<Uint8Array> {
    const p = tensor.planes[plane];
    if (!p) throw new SkiffError("bad-argument", `Tensor ${tensor.name} has no plane ${plane}`);
    const out = new Uint8Array(p.byteLength);
    let at = 0;
    for (const key of p.chunkKeys) {
      const chunk = await get<Uint8Array>(key, this.chunks);
      if (!chunk)
        throw new SkiffError("bad-argument", `Model ${id} is damaged: chunk ${key} is missing; import it again`);
      out.set(chunk, at);
      at += chunk.byteLength;
    }
    if (at !== p.byteLength || (await sha256(out)) !== p.sha256) {
      throw new SkiffError(
        "bad-argument",
        `Model ${id} is damaged: tensor ${tensor.name} fails its checksum; import it again`,
      );
    }
    return out;
  }

  private async allManifests(): Promise<ModelManifest[]> {
    const ids = await keys<string>(this.manifests);
    const out: ModelManifest[] = [];
    for (const id of ids) {
      const m = await get<ModelManifest>(id, this.manifests);
      if (m) out.push(m);
    }
    return out;
  }
}

export class ImportWriter<C, T> {
  constructor(
    private readonly store: ModelStore,
    readonly manifest: ModelManifest<C, T>,
    private readonly manifests: UseStore,
    private readonly chunks: UseStore,
  ) {}

  /** Stores one tensor's planes in chunks; the manifest is only rewritten at `finish`. */
  async addTensor(tensor: Omit<StoredTensor, "planes">, planes: Record<string, Uint8Array>): Promise<void> {
    const stored: StoredTensor = { ...tensor, planes: {} };
    for (const [plane, bytes] of Object.entries(planes)) {
      const chunkKeys: string[] = [];
      const entries: [string, Uint8Array][] = [];
      for (let at = 0, i = 0; at < bytes.byteLength || i === 0; at += CHUNK_BYTES, i++) {
        const key = `${this.manifest.id}/${tensor.name}/${plane}/${i}`;
        chunkKeys.push(key);
        entries.push([key, bytes.slice(at, Math.min(bytes.byteLength, at + CHUNK_BYTES))]);
      }
      try {
        await setMany(entries, this.chunks);
      } catch (e) {
        throw storageError(e, this.manifest.name);
      }
      stored.planes[plane] = { byteLength: bytes.byteLength, chunkKeys, sha256: await sha256(bytes) };
      this.manifest.storedBytes += bytes.byteLength;
    }
    this.manifest.tensors.push(stored);
  }

  /** Marks the model complete: from now on it is listed and loadable. */
  async finish(): Promise<ModelManifest<C, T>> {
    this.manifest.complete = true;
    try {
      await set(this.manifest.id, this.manifest, this.manifests);
    } catch (e) {
      throw storageError(e, this.manifest.name);
    }
    return this.manifest;
  }

  /** Removes everything this import wrote. */
  async discard(): Promise<void> {
    await this.store.remove(this.manifest.id);
  }
}

function storageError(e: unknown, name: string): unknown {
  if (e instanceof DOMException && e.name === "QuotaExceededError") {
    return new SkiffError("quota-exceeded", `Storage is full while saving ${name}: delete a model or free disk space`, {
      cause: e,
    });
  }
  return e;
}

export async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as BufferSource);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

export function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

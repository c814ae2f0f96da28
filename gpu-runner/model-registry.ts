// Maps a job's (model name, compression) to a checkpoint folder with the catalog function the
// gateway uses (protocol/catalog-content.ts), and keeps a few loaded models warm (on webgpu: on the device).
import { join, resolve } from 'node:path';
import { type LoadedModel, loadModelForBackend } from '../engine/index.js';
import { checkpointFor, type ServedModels } from '../protocol/catalog-content.js';
import { scanModelsDir } from '../protocol/model-folders.js';

/** The compression part of a request that decides which checkpoint serves it. */
export interface CheckpointKey {
  model: string;
  method: string;
  ratio: number;
}

export class UnknownCheckpointError extends Error {
  override name = 'UnknownCheckpointError';
}

export class ModelRegistry {
  private readonly loaded = new Map<string, LoadedModel>();
  private readonly loading = new Map<string, Promise<LoadedModel>>();
  private served: ServedModels | null = null;

  /** modelsDir: where checkpoint folders live; maxLoaded: models kept in memory (least recently used goes). */
  constructor(
    readonly modelsDir: string = resolve(process.env.DMS_MODELS_DIR || './models'),
    readonly maxLoaded = 3,
  ) {}

  /** The folder serving a key, or null; the directory is rescanned on a miss (folders added since start). */
  folderOf(key: CheckpointKey): string | null {
    const hit = this.served && checkpointFor(this.served, key.model, key.method, key.ratio);
    if (hit && 'folder' in hit) return hit.folder;
    this.served = scanModelsDir(this.modelsDir);
    const again = checkpointFor(this.served, key.model, key.method, key.ratio);
    return 'folder' in again ? again.folder : null;
  }

  /**
   * Loads (or reuses) the checkpoint for a key, for the process's backend (webgpu: straight to the
   * device); throws UnknownCheckpointError saying what is missing.
   */
  async get(key: CheckpointKey): Promise<LoadedModel> {
    const folder = this.folderOf(key);
    if (folder === null) {
      const miss = checkpointFor(this.served!, key.model, key.method, key.ratio);
      throw new UnknownCheckpointError(`${'error' in miss ? miss.error : 'no checkpoint'} in ${this.modelsDir}`);
    }
    const hit = this.loaded.get(folder);
    if (hit) {
      this.loaded.delete(folder);
      this.loaded.set(folder, hit); // most recently used last
      return hit;
    }
    let pending = this.loading.get(folder);
    if (!pending) {
      pending = loadModelForBackend(join(this.modelsDir, folder));
      this.loading.set(folder, pending);
    }
    let model: LoadedModel;
    try {
      model = await pending;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new UnknownCheckpointError(`checkpoint folder ${folder} is gone: ${(e as Error).message}`);
      throw e;
    } finally {
      this.loading.delete(folder);
    }
    if (this.loaded.has(folder)) return this.loaded.get(folder)!;
    this.loaded.set(folder, model);
    while (this.loaded.size > this.maxLoaded) {
      const [oldest, m] = this.loaded.entries().next().value as [string, LoadedModel];
      this.loaded.delete(oldest);
      m.dispose();
    }
    return model;
  }

  dispose(): void {
    for (const m of this.loaded.values()) m.dispose();
    this.loaded.clear();
  }
}

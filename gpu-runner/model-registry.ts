// Maps a job's (model name, compression) to a checkpoint folder under the models directory and keeps
// a few loaded models warm: DMS at ratio R runs on `<name>-dms-r<R>`, every other method on `<name>-base`.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type LoadedModel, loadModel } from '../engine/index.js';

/** The compression part of a request that decides which checkpoint serves it. */
export interface CheckpointKey {
  model: string;
  method: string;
  ratio: number;
}

export class UnknownCheckpointError extends Error {
  override name = 'UnknownCheckpointError';
}

/** Folder name of the checkpoint serving a request: the DMS retrofit for dms, the base otherwise. */
export function checkpointFolder(key: CheckpointKey): string {
  return key.method === 'dms' ? `${key.model}-dms-r${key.ratio}` : `${key.model}-base`;
}

export class ModelRegistry {
  private readonly loaded = new Map<string, LoadedModel>();

  /** modelsDir: where checkpoint folders live; maxLoaded: models kept in memory (least recently used goes). */
  constructor(
    readonly modelsDir: string = resolve(process.env.DMS_MODELS_DIR || './models'),
    readonly maxLoaded = 3,
  ) {}

  /** Loads (or reuses) the checkpoint for a key; throws UnknownCheckpointError naming the folder when absent. */
  get(key: CheckpointKey): LoadedModel {
    const folder = checkpointFolder(key);
    const hit = this.loaded.get(folder);
    if (hit) {
      this.loaded.delete(folder);
      this.loaded.set(folder, hit); // most recently used last
      return hit;
    }
    const dir = join(this.modelsDir, folder);
    if (!existsSync(join(dir, 'config.json'))) {
      throw new UnknownCheckpointError(
        `no checkpoint for model '${key.model}' with method ${key.method}${key.method === 'dms' ? ` ratio ${key.ratio}` : ''}: ${dir} not found`,
      );
    }
    const model = loadModel(dir);
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

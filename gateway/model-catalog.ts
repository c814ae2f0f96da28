// Builds the ModelCatalog by scanning models/*/config.json (JSON only, no engine import):
// `<name>-base` serves <name> with the training-free methods, `<name>-dms-r<R>` adds DMS ratio R.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type CatalogModel, type ModelCatalog, TRAINING_FREE_METHODS } from '../protocol/index.js';

/** One checkpoint folder as the catalog sees it. */
export type CheckpointEntry = { folder: string; contextLength: number };

const DMS_FOLDER = /^(.+)-dms-r(\d+(?:\.\d+)?)$/;
/**
 * Not served: retrofit variants kept for evaluation (e.g. `-dms-r4-w0`, the immediate-eviction
 * ablation) and training state that trainers keep beside the checkpoints (`*-state`).
 */
const UNSERVED_FOLDER = /-dms-r\d+(?:\.\d+)?-|-state$/;
const BASE_FOLDER = /^(.+)-base$/;

/** Pure part: folder names and context lengths -> catalog. A model's context is its folders' minimum. */
export function buildCatalog(entries: CheckpointEntry[], preferredDefault?: string): ModelCatalog {
  const byName = new Map<string, { base: boolean; ratios: Set<number>; contextLength: number }>();
  for (const { folder, contextLength } of entries) {
    if (UNSERVED_FOLDER.test(folder)) continue;
    const dms = DMS_FOLDER.exec(folder);
    const name = dms ? dms[1] : (BASE_FOLDER.exec(folder)?.[1] ?? folder);
    const model = byName.get(name) ?? { base: false, ratios: new Set<number>(), contextLength };
    model.contextLength = Math.min(model.contextLength, contextLength);
    if (dms) model.ratios.add(Number(dms[2]));
    else model.base = true;
    byName.set(name, model);
  }
  const models: CatalogModel[] = [...byName.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, m]) => ({
      name,
      contextLength: m.contextLength,
      methods: [...(m.base ? TRAINING_FREE_METHODS : []), ...(m.ratios.size > 0 ? ['dms'] : [])],
      dmsRatios: [...m.ratios].sort((a, b) => a - b),
    }));
  const names = models.map((m) => m.name);
  const defaultModel = preferredDefault && names.includes(preferredDefault) ? preferredDefault : names.includes('reasoner') ? 'reasoner' : (names[0] ?? '');
  return { defaultModel, models };
}

/** Scans `dir` for checkpoint folders; a folder without a readable config.json is skipped with a warning. */
export async function loadModelCatalog(dir: string, preferredDefault?: string): Promise<ModelCatalog> {
  let folders: string[];
  try {
    folders = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return buildCatalog([], preferredDefault);
  }
  const entries: CheckpointEntry[] = [];
  for (const folder of folders) {
    let config: { max_position_embeddings?: unknown };
    try {
      config = JSON.parse(await readFile(join(dir, folder, 'config.json'), 'utf8'));
    } catch {
      continue; // not a checkpoint folder (or not finished writing): nothing to serve from it
    }
    const contextLength = Number(config.max_position_embeddings);
    if (!Number.isInteger(contextLength) || contextLength <= 0) {
      console.warn(`models/${folder}/config.json: max_position_embeddings missing or invalid; skipped`);
      continue;
    }
    entries.push({ folder, contextLength });
  }
  return buildCatalog(entries, preferredDefault);
}

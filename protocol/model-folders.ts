// Reads DMS_MODELS_DIR for the catalog: every subfolder's config.json and the optional models.json,
// handed to buildServedModels. Node file APIs, so it is kept out of protocol/index (the Worker bundle).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildServedModels, type FolderConfig, type ModelGroups, type ServedModels } from './catalog-content.js';

/** Parses models.json: { "<served name>": { "base": "<folder>", "dms": ["<folder>", ...] } }. */
function readGroups(path: string): ModelGroups {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`models.json: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('models.json: must map served names to { base, dms }');
  for (const [name, g] of Object.entries(json as Record<string, unknown>)) {
    const v = g as { base?: unknown; dms?: unknown };
    if (typeof g !== 'object' || g === null) throw new Error(`models.json: "${name}" must be an object { base, dms }`);
    if (v.base !== undefined && typeof v.base !== 'string') throw new Error(`models.json: "${name}".base must be a folder name`);
    if (v.dms !== undefined && !(Array.isArray(v.dms) && v.dms.every((f) => typeof f === 'string')))
      throw new Error(`models.json: "${name}".dms must be a list of folder names`);
    for (const key of Object.keys(v)) if (key !== 'base' && key !== 'dms') throw new Error(`models.json: "${name}".${key} is not a known field (base, dms)`);
  }
  return json as ModelGroups;
}

/** Scans dir (missing dir: empty catalog); folders without a readable config.json are not models and are skipped. */
export function scanModelsDir(dir: string, preferredDefault?: string): ServedModels {
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {
    return buildServedModels([], null, preferredDefault);
  }
  const folders: FolderConfig[] = [];
  const skipped: ServedModels['skipped'] = [];
  for (const folder of names.sort()) {
    const path = join(dir, folder, 'config.json');
    if (!existsSync(path)) continue; // not a checkpoint folder
    try {
      const config = JSON.parse(readFileSync(path, 'utf8'));
      if (typeof config !== 'object' || config === null) throw new Error('not a JSON object');
      folders.push({ folder, config });
    } catch (e) {
      skipped.push({ folder, reason: `config.json unreadable (${(e as Error).message})` }); // e.g. still being written
    }
  }
  const groupsPath = join(dir, 'models.json');
  const served = buildServedModels(folders, existsSync(groupsPath) ? readGroups(groupsPath) : null, preferredDefault);
  return { ...served, skipped: [...skipped, ...served.skipped] };
}

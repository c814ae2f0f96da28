// The gateway's ModelCatalog: the models directory scanned by the function the runner uses too
// (protocol/catalog-content.ts), so what the gateway accepts is what a runner can load.
import { scanModelsDir } from '../protocol/model-folders.js';
import type { ModelCatalog } from '../protocol/index.js';

/** Scans `dir`; each folder left out is logged with its reason. */
export async function loadModelCatalog(dir: string, preferredDefault?: string): Promise<ModelCatalog> {
  const served = scanModelsDir(dir, preferredDefault);
  for (const { folder, reason } of served.skipped) console.warn(`models/${folder}: not served: ${reason}`);
  return served.catalog;
}

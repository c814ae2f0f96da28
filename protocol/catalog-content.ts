// What a checkpoint folder's config.json says about serving it, and the catalog built from all of
// them: one pure function shared by the gateway (what it accepts) and the runner (what it loads).
import { type CatalogModel, type ModelCatalog, TRAINING_FREE_METHODS } from './index.js';

/** A checkpoint folder and its parsed config.json. */
export interface FolderConfig {
  folder: string;
  config: Record<string, unknown>;
}

/** models.json: served name -> its base folder and the folders of its DMS retrofits. */
export type ModelGroups = Record<string, { base?: string; dms?: string[] }>;

/** Which folder serves each (method, ratio) of one served model. */
export interface ServedCheckpoints {
  /** Folder serving none and the training-free methods, or null. */
  base: string | null;
  /** DMS ratio -> folder. */
  dms: Map<number, string>;
}

export interface ServedModels {
  catalog: ModelCatalog;
  /** Served name -> its folders. */
  checkpoints: Map<string, ServedCheckpoints>;
  /** Folders not served, with the reason (logged by the caller). */
  skipped: Array<{ folder: string; reason: string }>;
}

const DMS_FOLDER = /^(.+)-dms-r(\d+(?:\.\d+)?)$/;
/** Retrofit variants kept for evaluation (e.g. `-dms-r4-w0`) and trainers' state (`*-state`). */
const UNSERVED_FOLDER = /-dms-r\d+(?:\.\d+)?-|-state$/;
const BASE_FOLDER = /^(.+)-base$/;
/** transformers' max_position_embeddings defaults, used when config.json omits it. */
const DEFAULT_CONTEXT: Record<string, number> = { llama: 2048, qwen2: 32768, qwen3: 32768 };

/** The facts of one folder as the catalog sees them (JSON only: the gateway never loads a model). */
export interface FolderFacts {
  architecture: string | null;
  contextLength: number;
  parameters: number | null;
  dtype: string | null;
  /** Trained DMS ratio and window when the folder holds an evicting DMS predictor (either format). */
  dms: { ratio: number; window: number } | null;
}

const n = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function architectureOf(c: Record<string, unknown>): string | null {
  if (typeof c.model_type === 'string') return c.model_type;
  const a = Array.isArray(c.architectures) ? c.architectures[0] : null;
  return typeof a === 'string' ? a : null;
}

/** Parameter count from the shapes config.json implies (Llama/Qwen layout; biases and norms included). */
function parameterCount(c: Record<string, unknown>, arch: string | null): number | null {
  const [V, d, I, L, H] = [c.vocab_size, c.hidden_size, c.intermediate_size, c.num_hidden_layers, c.num_attention_heads].map(n);
  if (V === null || d === null || I === null || L === null || H === null) return null;
  const K = n(c.num_key_value_heads) ?? H;
  const D = n(c.head_dim) ?? (arch === 'qwen3' ? 128 : d / H);
  const qkvBias = arch === 'qwen2' || c.attention_bias === true ? (H + 2 * K) * D : 0;
  const oBias = arch !== 'qwen2' && c.attention_bias === true ? d : 0;
  const mlpBias = arch === 'llama' && c.mlp_bias === true ? 2 * I + d : 0;
  const qkNorm = arch === 'qwen3' ? 2 * D : 0;
  const layer = d * (H + 2 * K) * D + H * D * d + 3 * d * I + 2 * d + qkvBias + oBias + mlpBias + qkNorm;
  return V * d + L * layer + d + (c.tie_word_embeddings === true ? 0 : V * d);
}

function dmsOf(c: Record<string, unknown>): FolderFacts['dms'] {
  const block = c.dms;
  if (block && typeof block === 'object') {
    const b = block as Record<string, unknown>;
    return { ratio: n(b.ratio) ?? 1, window: n(b.window) ?? 16 };
  }
  if (!Object.keys(c).some((k) => k.startsWith('dms_')) || c.dms_disable_eviction === true) return null;
  return { ratio: n(c.dms_cr) ?? 8, window: n(c.dms_window_size) ?? 512 }; // NVIDIA Model-Optimizer's defaults
}

/** Facts of one config.json, or the reason it can not be served. */
export function folderFacts(c: Record<string, unknown>): FolderFacts | string {
  const architecture = architectureOf(c);
  const declared = n(c.max_position_embeddings);
  const contextLength = declared ?? (architecture ? DEFAULT_CONTEXT[architecture] : undefined);
  if (contextLength === undefined || !Number.isInteger(contextLength) || contextLength <= 0)
    return 'max_position_embeddings missing or invalid and no known model_type to default it';
  const dtype = typeof c.torch_dtype === 'string' ? c.torch_dtype : typeof c.dtype === 'string' ? c.dtype : null;
  return { architecture, contextLength, parameters: parameterCount(c, architecture), dtype, dms: dmsOf(c) };
}

interface Draft {
  base: string | null;
  dms: Map<number, string>;
  facts: FolderFacts[];
}

/** Builds the catalog and the folder map; a model's context is the minimum over its folders. */
export function buildServedModels(folders: FolderConfig[], groups: ModelGroups | null = null, preferredDefault?: string): ServedModels {
  const skipped: ServedModels['skipped'] = [];
  const facts = new Map<string, FolderFacts>();
  for (const { folder, config } of folders) {
    const f = folderFacts(config);
    if (typeof f === 'string') skipped.push({ folder, reason: f });
    else facts.set(folder, f);
  }
  const drafts = new Map<string, Draft>();
  const draft = (name: string): Draft => {
    const d: Draft = drafts.get(name) ?? { base: null, dms: new Map(), facts: [] };
    drafts.set(name, d);
    return d;
  };
  const grouped = new Set<string>();
  for (const [name, g] of Object.entries(groups ?? {})) {
    const d = draft(name);
    for (const folder of [...(g.base ? [g.base] : []), ...(g.dms ?? [])]) {
      if (!facts.has(folder)) throw new Error(`models.json: model "${name}" names folder "${folder}", which has no servable config.json`);
      grouped.add(folder);
    }
    if (g.base) {
      d.base = g.base;
      d.facts.push(facts.get(g.base)!);
    }
    for (const folder of g.dms ?? []) {
      const f = facts.get(folder)!;
      if (!f.dms) throw new Error(`models.json: model "${name}" lists "${folder}" under dms, but its config.json has no DMS predictor`);
      if (d.dms.has(f.dms.ratio)) throw new Error(`models.json: model "${name}" has two DMS folders for ratio ${f.dms.ratio}`);
      d.dms.set(f.dms.ratio, folder);
      d.facts.push(f);
    }
  }
  for (const [folder, f] of facts) {
    if (grouped.has(folder)) continue;
    if (UNSERVED_FOLDER.test(folder)) {
      skipped.push({ folder, reason: 'evaluation variant or training state (name ends in -dms-rR-* or -state)' });
      continue;
    }
    const dmsName = DMS_FOLDER.exec(folder);
    const baseName = BASE_FOLDER.exec(folder)?.[1];
    const name = dmsName ? dmsName[1] : (baseName ?? folder);
    if (groups?.[name]) {
      skipped.push({ folder, reason: `models.json defines "${name}"` });
      continue;
    }
    const d = draft(name);
    d.facts.push(f);
    if (dmsName) d.dms.set(Number(dmsName[2]), folder);
    else if (d.base !== null) skipped.push({ folder, reason: `"${d.base}" already serves "${name}"` });
    else {
      // A plain folder is its own model; a DMS checkpoint alone also serves the training-free methods on its own weights.
      d.base = folder;
      if (!baseName && f.dms) d.dms.set(f.dms.ratio, folder);
    }
  }
  const models: CatalogModel[] = [...drafts.entries()]
    .filter(([, d]) => d.facts.length > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, d]) => {
      // Architecture, size and dtype of the base (else of the first DMS folder): what a request runs on by default.
      const main = facts.get(d.base ?? [...d.dms.values()][0]) ?? d.facts[0];
      const windows = [...d.dms.values()].map((folder) => facts.get(folder)?.dms?.window).filter((w): w is number => w !== undefined);
      return {
        name,
        contextLength: Math.min(...d.facts.map((f) => f.contextLength)),
        methods: [...(d.base !== null ? TRAINING_FREE_METHODS : []), ...(d.dms.size > 0 ? ['dms'] : [])],
        dmsRatios: [...d.dms.keys()].sort((a, b) => a - b),
        architecture: main.architecture,
        parameters: main.parameters,
        dtype: main.dtype,
        dmsWindow: windows.length > 0 ? Math.min(...windows) : null,
      };
    });
  const names = models.map((m) => m.name);
  const defaultModel = preferredDefault && names.includes(preferredDefault) ? preferredDefault : names.includes('reasoner') ? 'reasoner' : (names[0] ?? '');
  const checkpoints = new Map([...drafts.entries()].map(([name, d]) => [name, { base: d.base, dms: d.dms }]));
  return { catalog: { defaultModel, models }, checkpoints, skipped };
}

/** The folder serving (model, method, ratio), or an error message naming what is missing. */
export function checkpointFor(served: ServedModels, model: string, method: string, ratio: number): { folder: string } | { error: string } {
  const c = served.checkpoints.get(model);
  const folder = method === 'dms' ? c?.dms.get(ratio) : c?.base;
  if (folder) return { folder };
  const what = method === 'dms' ? `method dms ratio ${ratio}` : `method ${method}`;
  const conventional = method === 'dms' ? `${model}-dms-r${ratio}` : `${model}-base or ${model}`;
  return { error: `no checkpoint for model '${model}' with ${what} (no folder ${conventional}, and models.json does not name one)` };
}

// Reads /v1/models in either shape the gateway may send: this repo's catalog {defaultModel, models}
// or OpenAI's list {object: 'list', data: [...]}, with whatever descriptive fields each model has.

export type ModelInfo = {
  name: string;
  isDefault: boolean;
  methods: string[];
  dmsRatios: number[];
  context: number | null;
  architecture: string | null;
  parameters: number | null;
  dtype: string | null;
  window: number | null;
  backend: string | null;
};

type Loose = Record<string, unknown>;

const first = (o: Loose, names: string[]): unknown => names.map((n) => o[n]).find((v) => v !== undefined && v !== null);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const nums = (v: unknown): number[] => (Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number') : []);
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

function one(raw: Loose, defaultName: string | null): ModelInfo {
  const name = str(first(raw, ['name', 'id'])) ?? '?';
  const dms = (raw.dms as Loose | undefined) ?? {};
  const backend = first(raw, ['backend', 'backends']);
  return {
    name,
    isDefault: name === defaultName || raw.default === true,
    methods: strs(first(raw, ['methods', 'compression_methods'])),
    dmsRatios: nums(first(raw, ['dmsRatios', 'dms_ratios', 'ratios']) ?? dms.ratios),
    context: num(first(raw, ['contextLength', 'context_length', 'context', 'max_position_embeddings'])),
    architecture: str(first(raw, ['architecture', 'arch', 'model_type'])),
    parameters: num(first(raw, ['parameters', 'num_parameters', 'params'])),
    dtype: str(first(raw, ['dtype', 'torch_dtype'])),
    window: num(first(raw, ['window', 'dms_window']) ?? dms.window),
    backend: Array.isArray(backend) ? strs(backend).join(', ') || null : str(backend),
  };
}

export function normalizeModels(body: unknown): ModelInfo[] {
  const o = (body ?? {}) as Loose;
  const defaultName = str(first(o, ['defaultModel', 'default_model', 'default']));
  const list = Array.isArray(o.data) ? o.data : Array.isArray(o.models) ? o.models : [];
  return (list as Loose[]).filter((m) => m && typeof m === 'object').map((m) => one(m, defaultName));
}

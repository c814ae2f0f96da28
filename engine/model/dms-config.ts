// The DMS eviction predictor's configuration, read from either checkpoint format: the project's
// `dms` block or NVIDIA Model-Optimizer's flat `dms_*` fields; both land in the same DmsConfig.

/** The DMS eviction predictor (dms.md section 2). */
export interface DmsConfig {
  /** 'adapter': new RMSNorm + linear d -> K on the residual; 'neuron': last dim of each group's first q head. */
  mode: 'adapter' | 'neuron';
  /** Sliding window w: an evicted key stays visible for w more steps (w+1 keys always visible). */
  window: number;
  /** Logit scale: logit = scale * s - offset (100 in the paper). */
  scale: number;
  /** Logit offset (5 in the paper): at s = 0 every token is kept. */
  offset: number;
  /** The compression ratio the checkpoint was trained for (the ratio `method: dms` is served at). */
  ratio: number;
  /** Where the predictor's fields and tensors are spelled: ours (`dms` block) or NVIDIA's (`dms_*`, `dms_proj_alpha*`). */
  format: 'project' | 'nvidia';
  /** 'head': one decision per KV head; 'layer': KV head 0's decision applies to every head of the layer (NVIDIA `dms_alpha_per`). */
  alphaPer: 'head' | 'layer';
  /** The adapter projection has a bias (NVIDIA: with attention_bias). */
  adapterBias: boolean;
  /** Never evict (NVIDIA `dms_disable_eviction`): logits are fixed at -1000, neuron zeroing still applies. */
  disableEviction: boolean;
}

type Json = Record<string, unknown>;

function fail(msg: string): never {
  throw new Error(`config.json: ${msg}`);
}

function numOr(json: Json, key: string, label: string, fallback: number): number {
  const v = json[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`field "${label}" must be a number, got ${JSON.stringify(v)}`);
  return v;
}

function boolOr(json: Json, key: string, fallback: boolean): boolean {
  const v = json[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') fail(`field "${key}" must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function checkWindow(window: number, label: string): void {
  if (!Number.isInteger(window) || window < 0) fail(`${label} must be an integer >= 0, got ${window}`);
}

/** NVIDIA's fields that only steer their training or their CUDA cache layout: nothing to compute here. */
const NVIDIA_INERT = new Set([
  'dms_tau',
  'dms_paged_attention_block_size',
  'dms_compile_limit',
  'dms_manual_inference_mode',
  'dms_chunked_prefill',
  'dms_preallocate_for_tokens',
]);
const NVIDIA_READ = new Set([
  'dms_window_size',
  'dms_alpha_scale',
  'dms_initial_alpha_offset',
  'dms_separate_alpha',
  'dms_cr',
  'dms_alpha_per',
  'dms_disable_eviction',
]);

/** True when config.json carries NVIDIA's flat DMS fields (any `dms_*` key). */
export function hasNvidiaDmsFields(json: Json): boolean {
  return Object.keys(json).some((k) => k.startsWith('dms_'));
}

/** NVIDIA's flat fields; defaults are those of Model-Optimizer's DMS config classes. */
function parseNvidiaDms(j: Json, attentionBias: boolean): DmsConfig {
  for (const key of Object.keys(j)) {
    if (key.startsWith('dms_') && !NVIDIA_READ.has(key) && !NVIDIA_INERT.has(key)) fail(`unknown DMS field "${key}" (not implemented)`);
  }
  const alphaPer = j.dms_alpha_per ?? 'head';
  if (alphaPer !== 'head' && alphaPer !== 'layer') fail(`dms_alpha_per must be "head" or "layer", got ${JSON.stringify(alphaPer)}`);
  const window = numOr(j, 'dms_window_size', 'dms_window_size', 512);
  checkWindow(window, 'dms_window_size');
  const separate = boolOr(j, 'dms_separate_alpha', false);
  return {
    mode: separate ? 'adapter' : 'neuron',
    window,
    scale: numOr(j, 'dms_alpha_scale', 'dms_alpha_scale', 100),
    offset: numOr(j, 'dms_initial_alpha_offset', 'dms_initial_alpha_offset', 5),
    ratio: numOr(j, 'dms_cr', 'dms_cr', 8),
    format: 'nvidia',
    alphaPer,
    adapterBias: separate && attentionBias,
    disableEviction: boolOr(j, 'dms_disable_eviction', false),
  };
}

/** The project's `dms` block. */
function parseProjectDms(v: unknown): DmsConfig {
  if (typeof v !== 'object' || v === null) fail('dms must be an object or null');
  const d = v as Json;
  if (d.mode !== 'adapter' && d.mode !== 'neuron') fail(`dms.mode must be "adapter" or "neuron", got ${JSON.stringify(d.mode)}`);
  const known = new Set(['mode', 'window', 'scale', 'offset', 'ratio']);
  for (const key of Object.keys(d)) if (!known.has(key)) fail(`unknown field "dms.${key}" (not implemented)`);
  const window = numOr(d, 'window', 'dms.window', 16);
  checkWindow(window, 'dms.window');
  return {
    mode: d.mode,
    window,
    scale: numOr(d, 'scale', 'dms.scale', 100),
    offset: numOr(d, 'offset', 'dms.offset', 5),
    ratio: numOr(d, 'ratio', 'dms.ratio', 1),
    format: 'project',
    alphaPer: 'head',
    adapterBias: false,
    disableEviction: false,
  };
}

/** The predictor of a config.json in either format, or null for a vanilla model; both formats at once is an error. */
export function parseDms(j: Json, attentionBias: boolean): DmsConfig | null {
  const project = j.dms !== undefined && j.dms !== null;
  const nvidia = hasNvidiaDmsFields(j);
  if (project && nvidia) fail('both a "dms" block and NVIDIA "dms_*" fields are present; keep one format');
  if (nvidia) return parseNvidiaDms(j, attentionBias);
  return project ? parseProjectDms(j.dms) : null;
}

/** The config.json fields of a predictor, in its own format. */
export function dmsToJson(dms: DmsConfig): Record<string, unknown> {
  if (dms.format === 'project') {
    if (dms.alphaPer !== 'head' || dms.adapterBias || dms.disableEviction)
      fail('the project dms block has no alpha_per, adapter bias or disable_eviction: write it in the nvidia format');
    return { dms: { mode: dms.mode, window: dms.window, scale: dms.scale, offset: dms.offset, ratio: dms.ratio } };
  }
  return {
    dms_window_size: dms.window,
    dms_alpha_scale: dms.scale,
    dms_initial_alpha_offset: dms.offset,
    dms_separate_alpha: dms.mode === 'adapter',
    dms_cr: dms.ratio,
    dms_alpha_per: dms.alphaPer,
    dms_disable_eviction: dms.disableEviction,
  };
}

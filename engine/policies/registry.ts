// Maps a request's compression spec to a policy instance; baselines register themselves here
// (one entry per method) so the scheduler and accounting never special-case a method.
import type { ModelConfig } from '../model/config.js';
import { DmsPolicy } from './dms.js';
import { H2oPolicy } from './h2o.js';
import type { CompressionSpec, KvPolicy } from './kv-policy.js';
import { NonePolicy } from './none.js';
import { QuestPolicy } from './quest.js';
import { TovaPolicy } from './tova.js';
import { WindowPolicy } from './window.js';

/** Optional knobs of the training-free baselines, beside the request's {method, ratio, window}. */
export interface BaselineKnobs {
  /** Budget floor: a row keeps at most max(floor, ceil(t / r)) tokens (default 16). */
  floor?: number;
  /** window: sink tokens (default 4). */
  sinks?: number;
  /** h2o: share of the budget for heavy hitters (default 0.5). */
  heavyFraction?: number;
  /** quest: tokens per page (default 16; the cache must use the same page size). */
  pageSize?: number;
}

/** A spec with the baseline knobs; plain request specs ({method, ratio}) are a special case. */
export type PolicySpec = CompressionSpec & BaselineKnobs;

function noWindow(spec: PolicySpec, hint: string): void {
  if (spec.window !== undefined) throw new Error(`compression method "${spec.method}" takes no window (${hint})`);
}

function recentOf(spec: PolicySpec): number | undefined {
  if (spec.window === undefined) return undefined;
  if (!(Number.isInteger(spec.window) && spec.window >= 0)) throw new Error(`compression window must be an integer >= 0, got ${spec.window}`);
  return spec.window + 1;
}

function needsDms(spec: PolicySpec, model: ModelConfig): void {
  if (!model.dms) throw new Error(`compression method "${spec.method}" needs a model with a DMS predictor (config.json dms block)`);
}

/** Builds a policy for a spec on a model; throws a clear Error when the pair does not fit. */
export type PolicyFactory = (spec: PolicySpec, model: ModelConfig) => KvPolicy;

const factories = new Map<string, PolicyFactory>([
  ['none', () => new NonePolicy()],
  ['vanilla', () => new NonePolicy()],
  [
    'dms',
    (spec, model) => {
      if (!model.dms) throw new Error('compression method "dms" needs a model with a DMS predictor (config.json dms block)');
      return new DmsPolicy(spec.window ?? model.dms.window);
    },
  ],
  // The immediate-eviction ablation (also reachable as {method: 'dms', window: 0}).
  [
    'dms-w0',
    (spec, model) => {
      needsDms(spec, model);
      if (spec.window !== undefined && spec.window !== 0) throw new Error(`compression method "dms-w0" has window 0, got ${spec.window}`);
      return new DmsPolicy(0, 'dms-w0');
    },
  ],
  [
    'window',
    (spec: PolicySpec) => {
      noWindow(spec, 'its recent part is the budget minus the sinks; set sinks');
      return new WindowPolicy({ ratio: spec.ratio, floor: spec.floor, sinks: spec.sinks });
    },
  ],
  // A window w on tova/h2o means what it means for DMS: the current token and the w before it are never evicted.
  ['tova', (spec: PolicySpec) => new TovaPolicy({ ratio: spec.ratio, floor: spec.floor, recent: recentOf(spec) })],
  ['h2o', (spec: PolicySpec) => new H2oPolicy({ ratio: spec.ratio, floor: spec.floor, heavyFraction: spec.heavyFraction, recent: recentOf(spec) })],
  [
    'quest',
    (spec: PolicySpec) => {
      noWindow(spec, 'it keeps every token; set pageSize');
      return new QuestPolicy({ ratio: spec.ratio, floor: spec.floor, pageSize: spec.pageSize });
    },
  ],
]);

/** Registers (or replaces) the factory of a method. */
export function registerPolicy(method: string, factory: PolicyFactory): void {
  factories.set(method, factory);
}

/** Method names with a factory. */
export function policyNames(): string[] {
  return [...factories.keys()];
}

/** The policy for a spec; unknown methods and ratios below 1 are errors. */
export function createPolicy(spec: PolicySpec, model: ModelConfig): KvPolicy {
  const factory = factories.get(spec.method);
  if (!factory) throw new Error(`unknown compression method "${spec.method}" (known: ${policyNames().join(', ')})`);
  if (!(spec.ratio >= 1)) throw new Error(`compression ratio must be >= 1, got ${spec.ratio}`);
  return factory(spec, model);
}

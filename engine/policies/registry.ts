// Maps a request's compression spec to a policy instance; baselines register themselves here
// (one entry per method) so the scheduler and accounting never special-case a method.
import type { ModelConfig } from '../model/config.js';
import { DmsPolicy } from './dms.js';
import type { CompressionSpec, KvPolicy } from './kv-policy.js';
import { NonePolicy } from './none.js';

/** Builds a policy for a spec on a model; throws a clear Error when the pair does not fit. */
export type PolicyFactory = (spec: CompressionSpec, model: ModelConfig) => KvPolicy;

const factories = new Map<string, PolicyFactory>([
  ['none', () => new NonePolicy()],
  ['vanilla', () => new NonePolicy()],
  ['dms', (spec, model) => {
    if (!model.dms) throw new Error('compression method "dms" needs a model with a DMS predictor (config.json dms block)');
    return new DmsPolicy(spec.window ?? model.dms.window);
  }],
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
export function createPolicy(spec: CompressionSpec, model: ModelConfig): KvPolicy {
  const factory = factories.get(spec.method);
  if (!factory) throw new Error(`unknown compression method "${spec.method}" (known: ${policyNames().join(', ')})`);
  if (!(spec.ratio >= 1)) throw new Error(`compression ratio must be >= 1, got ${spec.ratio}`);
  return factory(spec, model);
}

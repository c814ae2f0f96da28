// What the webgpu executor serves: model configs it implements (anything else is refused naming the
// field) and KV policies that run on the GPU path (none, window, dms with any w); the rest are refused.
import type { ModelConfig } from '../../model/config.js';
import type { KvPolicy } from '../../policies/kv-policy.js';
import type { BackendName } from '../executor.js';

/** Backends that serve every policy (the wasm executor runs on each tfjs backend). */
const ALL_POLICY_BACKENDS = 'wasm, tensorflow, cpu';

/** Thrown when a request asks the webgpu backend for something it does not serve (callers map it to a 400). */
export class UnsupportedOnBackendError extends Error {
  override readonly name = 'UnsupportedOnBackendError';
}

/** Throws naming the config field when the model uses something these kernels do not implement. */
export function checkWebgpuConfig(cfg: ModelConfig): void {
  // Fields other engineers may add to ModelConfig: refuse any value other than the one implemented here.
  const extra = cfg as unknown as Record<string, unknown>;
  const refuse = (field: string, value: unknown, implemented: string) => {
    throw new UnsupportedOnBackendError(
      `webgpu backend: config ${field} = ${JSON.stringify(value)} is not implemented (implemented: ${implemented}); use DMS_BACKEND=wasm`,
    );
  };
  if (extra.hiddenAct !== undefined && extra.hiddenAct !== 'silu') refuse('hiddenAct', extra.hiddenAct, 'silu');
  if (extra.mlpBias !== undefined && extra.mlpBias !== false) refuse('mlpBias', extra.mlpBias, 'false');
  const rs = cfg.ropeScaling as { type?: string } | null;
  if (rs !== null && rs.type !== 'linear' && rs.type !== 'llama3') refuse('ropeScaling.type', rs.type, 'null, linear, llama3');
  if (cfg.dms && cfg.dms.mode !== 'adapter' && cfg.dms.mode !== 'neuron') refuse('dms.mode', cfg.dms.mode, 'adapter, neuron');
  const known = new Set(['mode', 'window', 'scale', 'offset', 'ratio']);
  for (const k of Object.keys(cfg.dms ?? {})) {
    const v = (cfg.dms as unknown as Record<string, unknown>)[k];
    if (!known.has(k) && v !== undefined && v !== null && v !== false) refuse(`dms.${k}`, v, 'mode, window, scale, offset, ratio');
  }
  if (cfg.headDim > 256) refuse('headDim', cfg.headDim, '<= 256');
}

/** Throws a clear error when a policy cannot run on the GPU path. */
export function checkWebgpuPolicy(policy: KvPolicy): void {
  const refuse = (why: string) => {
    throw new UnsupportedOnBackendError(
      `compression method "${policy.name}" is not served by the webgpu backend (${why}); backends that serve it: ${ALL_POLICY_BACKENDS}`,
    );
  };
  if (policy.needsAttention) refuse('it needs per-slot attention weights read back every step');
  if (policy.needsKeyBounds || policy.selectSlots) refuse('it needs per-page key bounds and host-side page selection');
  const served = new Set(['none', 'vanilla', 'window', 'dms', 'dms-w0']);
  if (!served.has(policy.name)) refuse('not implemented on this backend');
}

/** Throws UnsupportedOnBackendError when `backend` cannot serve the policy (only webgpu refuses some). */
export function checkPolicyOnBackend(backend: BackendName, policy: KvPolicy): void {
  if (backend === 'webgpu') checkWebgpuPolicy(policy);
}

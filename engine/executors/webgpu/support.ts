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
  const refuse = (field: string, value: unknown, implemented: string) => {
    throw new UnsupportedOnBackendError(
      `webgpu backend: config ${field} = ${JSON.stringify(value)} is not implemented (implemented: ${implemented}); use DMS_BACKEND=wasm`,
    );
  };
  if (cfg.hiddenAct !== 'silu') refuse('hidden_act', cfg.hiddenAct, 'silu');
  if (cfg.mlpBias) refuse('mlp_bias', cfg.mlpBias, 'false');
  const rs = cfg.ropeScaling as { type?: string } | null;
  if (rs !== null && rs.type !== 'linear' && rs.type !== 'llama3') refuse('rope_scaling.type', rs.type, 'none, linear, llama3');
  if (cfg.dms) {
    const dms = cfg.dms;
    if (dms.mode !== 'adapter' && dms.mode !== 'neuron') refuse('dms.mode', dms.mode, 'adapter, neuron');
    if (dms.alphaPer !== 'head') refuse('dms_alpha_per', dms.alphaPer, 'head');
    if (dms.adapterBias) refuse('dms adapter bias (dms_proj_alpha.bias)', dms.adapterBias, 'false');
    if (dms.disableEviction) refuse('dms_disable_eviction', dms.disableEviction, 'false');
    // Any field added to DmsConfig later is refused here until the kernels are checked against it.
    const known = new Set(['mode', 'window', 'scale', 'offset', 'ratio', 'format', 'alphaPer', 'adapterBias', 'disableEviction']);
    for (const k of Object.keys(dms)) if (!known.has(k)) refuse(`dms.${k}`, (dms as unknown as Record<string, unknown>)[k], 'none');
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

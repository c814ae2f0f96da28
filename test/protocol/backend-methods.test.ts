// The per-backend method table (protocol/backend-methods.ts) agrees with what the engine's backends
// actually refuse (engine/executors/webgpu/support.ts), and the stored method bits are stable.
import { describe, expect, it } from 'vitest';
import type { BackendName } from '../../engine/executors/executor.js';
import { checkPolicyOnBackend, UnsupportedOnBackendError } from '../../engine/executors/webgpu/support.js';
import { createPolicy } from '../../engine/policies/registry.js';
import {
  BACKENDS,
  type Backend,
  backendOfLabel,
  backendsServing,
  COMPRESSION_METHODS,
  METHOD_BITS,
  methodBits,
  methodsServedBy,
  unservedBits,
} from '../../protocol/index.js';
import { tinyConfig } from '../engine/helpers.js';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameBackends: Same<Backend, BackendName> = true;

describe('methods per backend', () => {
  it('agree with the engine: a method is listed for a backend exactly when the backend runs its policy', () => {
    expect(sameBackends).toBe(true);
    const cfg = tinyConfig({ dms: { mode: 'adapter', window: 2 } });
    for (const backend of BACKENDS) {
      for (const method of COMPRESSION_METHODS) {
        const policy = createPolicy({ method, ratio: method === 'none' ? 1 : 2 }, cfg);
        let refusal: unknown = null;
        try {
          checkPolicyOnBackend(backend, policy);
        } catch (error) {
          refusal = error;
        }
        expect([backend, method, refusal === null]).toEqual([backend, method, methodsServedBy(backend).includes(method)]);
        if (refusal) {
          expect(refusal).toBeInstanceOf(UnsupportedOnBackendError);
          // The engine's message names the same serving backends as the gateway's 400.
          expect((refusal as Error).message).toContain(`backends that serve it: ${backendsServing(method).join(', ')}`);
        }
      }
    }
  });

  it('lists webgpu as none, window, dms and the tfjs backends as everything', () => {
    expect(methodsServedBy('webgpu')).toEqual(['none', 'window', 'dms']);
    for (const b of ['wasm', 'tensorflow', 'cpu'] as const) expect(methodsServedBy(b)).toEqual(COMPRESSION_METHODS);
    expect(backendsServing('tova')).toEqual(['wasm', 'tensorflow', 'cpu']);
    expect(backendsServing('dms')).toEqual(['wasm', 'tensorflow', 'cpu', 'webgpu']);
  });

  it('gives each method its own stored bit, unchanged (databases hold them)', () => {
    expect(METHOD_BITS).toEqual({ none: 1, dms: 2, tova: 4, h2o: 8, quest: 16, window: 32 });
    expect(Object.keys(METHOD_BITS).sort()).toEqual([...COMPRESSION_METHODS].sort());
    expect(methodBits(['tova', 'none', 'tova'])).toBe(5);
    expect(unservedBits(methodsServedBy('webgpu'))).toBe(4 + 8 + 16);
    expect(unservedBits(methodsServedBy('wasm'))).toBe(0);
  });

  it('reads the backend out of a runner label', () => {
    expect(backendOfLabel('webgpu (llvmpipe (LLVM 15.0.6, 256 bits))')).toBe('webgpu');
    expect(backendOfLabel('wasm')).toBe('wasm');
    expect(backendOfLabel('test-fake')).toBeNull();
    expect(backendOfLabel(undefined)).toBeNull();
  });
});

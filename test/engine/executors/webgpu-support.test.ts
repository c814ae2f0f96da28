// What the webgpu executor refuses, without a device: config values its kernels do not implement
// (named by field) and the policies that need per-slot attention weights or host-side page selection.
import { describe, expect, it } from 'vitest';
import { checkWebgpuConfig, checkWebgpuPolicy, UnsupportedOnBackendError } from '../../../engine/executors/webgpu/support.js';
import { createPolicy } from '../../../engine/policies/registry.js';
import { tinyConfig } from '../helpers.js';

describe('webgpu support checks', () => {
  it('refuses config values it does not implement, naming the field', () => {
    const cfg = tinyConfig({ dms: { mode: 'adapter', window: 2 } });
    expect(() => checkWebgpuConfig(cfg)).not.toThrow();
    expect(() => checkWebgpuConfig({ ...cfg, hiddenAct: 'gelu_pytorch_tanh' } as typeof cfg)).toThrow(
      /config hidden_act = "gelu_pytorch_tanh" is not implemented/,
    );
    expect(() => checkWebgpuConfig({ ...cfg, mlpBias: true } as typeof cfg)).toThrow(/config mlp_bias = true/);
    expect(() => checkWebgpuConfig({ ...cfg, ropeScaling: { type: 'yarn' } } as unknown as typeof cfg)).toThrow(/rope_scaling.type = "yarn"/);
    expect(() => checkWebgpuConfig({ ...cfg, dms: { ...cfg.dms!, alphaPer: 'layer' } })).toThrow(/dms_alpha_per = "layer"/);
    expect(() => checkWebgpuConfig({ ...cfg, dms: { ...cfg.dms!, adapterBias: true } })).toThrow(/dms_proj_alpha.bias/);
    expect(() => checkWebgpuConfig({ ...cfg, dms: { ...cfg.dms!, disableEviction: true } })).toThrow(/dms_disable_eviction = true/);
    expect(() => checkWebgpuConfig({ ...cfg, dms: { ...cfg.dms!, format: 'nvidia' } })).not.toThrow(); // the format alone changes nothing the kernels compute
    expect(() => checkWebgpuConfig({ ...cfg, dms: { ...cfg.dms!, sharedPredictor: 2 } } as typeof cfg)).toThrow(UnsupportedOnBackendError);
  });

  it('serves none, window, dms and dms-w0; refuses tova, h2o and quest naming the backends that serve them', () => {
    const cfg = tinyConfig({ dms: { mode: 'adapter', window: 2 } });
    for (const method of ['none', 'window', 'dms', 'dms-w0']) expect(() => checkWebgpuPolicy(createPolicy({ method, ratio: 2 }, cfg))).not.toThrow();
    for (const method of ['tova', 'h2o', 'quest'])
      expect(() => checkWebgpuPolicy(createPolicy({ method, ratio: 2 }, cfg))).toThrow(
        new RegExp(`"${method}" is not served by the webgpu backend .*: wasm, tensorflow, cpu`),
      );
  });
});

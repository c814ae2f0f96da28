// Backend selection: a software adapter (lavapipe here) is never chosen automatically, DMS_BACKEND=webgpu
// forces it and reports the adapter; unknown names are refused. Each case runs in a fresh process.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isSoftwareAdapter } from '../../../engine/executors/webgpu/gpu-context.js';

const SCRIPT = "import { initBackendInfo } from './engine/backend.ts'; console.log(JSON.stringify(await initBackendInfo()));";

function pick(env: Record<string, string | undefined>): {
  status: number | null;
  info: { backend: string; adapter?: { description: string } } | null;
  stderr: string;
} {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return { status: r.status, info: r.status === 0 ? JSON.parse(line) : null, stderr: r.stderr };
}

describe('backend selection', () => {
  it('names software adapters as such', () => {
    expect(isSoftwareAdapter({ vendor: 'mesa', architecture: 'software', description: 'llvmpipe: Mesa 25.0.7' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'google', architecture: '', description: 'SwiftShader Device (Subzero)' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200' })).toBe(false);
  });

  it('automatic selection skips a software adapter; DMS_BACKEND=webgpu forces it and reports the adapter', () => {
    const auto = pick({ DMS_BACKEND: undefined });
    expect(auto.status).toBe(0);
    expect(auto.info!.backend).not.toBe('webgpu');
    const forced = pick({ DMS_BACKEND: 'webgpu' });
    if (forced.status !== 0 && !process.env.CI) {
      console.warn(`\n*** SKIPPING the forced-webgpu check: ${forced.stderr.trim().split('\n').pop()} ***\n`);
      return;
    }
    expect(forced.info!.backend).toBe('webgpu');
    expect(forced.info!.adapter!.description).toBeTruthy();
    const bad = pick({ DMS_BACKEND: 'metal' });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/DMS_BACKEND must be one of webgpu, tensorflow, wasm, cpu/);
  });
});

// Starts gateway/node.ts as a child process on a free port with a temp DMS_DATA_DIR: /healthz,
// the printed-once API key, a job run by the in-process engine runner, and data surviving a restart.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../bench/reliability/gateway-process.js';
import { writeTinyModels } from '../runner-processes/tiny-models.js';
import { probeAdapter } from '../../engine/executors/webgpu/gpu-context.js';

const root = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'dms-node-'));
const children: ChildProcess[] = [];
// The routing case needs a WebGPU adapter (lavapipe in CI), as the webgpu suites do.
const adapter = await probeAdapter();

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Starts the gateway (with `env` on top of the test's); resolves with its output once it listens. */
function start(port: number, env: Record<string, string> = {}): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/node.ts'], {
    cwd: root,
    env: { ...process.env, PORT: String(port), DMS_DATA_DIR: join(dir, 'data'), DMS_MODELS_DIR: join(dir, 'models'), DMS_API_KEY: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${out}`)), 45_000);
    const onData = (chunk: Buffer) => {
      out += chunk;
      if (out.includes('listening on')) {
        clearTimeout(timer);
        resolve({ child, output: () => out });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}:\n${out}`)));
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

describe('npm start (gateway/node.ts)', () => {
  it('serves /healthz, runs a job on the engine with the printed key, and keeps it across a restart', async () => {
    await writeTinyModels(join(dir, 'models'));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;

    const first = await start(port);
    const key = /created API key .*: (dms_\S+)/.exec(first.output())?.[1];
    expect(key).toBeDefined();
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect((await health.json()).models).toEqual(['tiny']);

    const auth = { authorization: `Bearer ${key}` };
    const submit = await fetch(`${base}/v1/jobs`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        requests: [{ custom_id: 'a', prompt: 'C1:a3b7=', params: { max_tokens: 16, temperature: 0, compression: { method: 'tova', ratio: 2 } } }],
      }),
    });
    expect(submit.status).toBe(201);
    const job = await submit.json();
    let view = job;
    for (let i = 0; i < 200 && view.status !== 'completed'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      view = await (await fetch(`${base}/v1/jobs/${job.id}`, { headers: auth })).json();
    }
    expect(view.status).toBe('completed');
    const line = JSON.parse((await (await fetch(`${base}/v1/jobs/${job.id}/results`, { headers: auth })).text()).trim());
    expect(line).toMatchObject({ custom_id: 'a', status: 'succeeded', backend: 'wasm' });
    expect(line.usage.kv_token_reads).toBeGreaterThan(0);
    expect(await stop(first.child)).toBe(0);

    const second = await start(port);
    expect(second.output()).not.toMatch(/created API key/);
    const again = await fetch(`${base}/v1/jobs/${job.id}`, { headers: auth });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: 'completed', usage: { kv_token_reads: line.usage.kv_token_reads } });
    expect(await stop(second.child)).toBe(0);
  });

  it.skipIf(!adapter && !process.env.CI)(
    'on webgpu with the runner API off refuses tova at submission naming the field; with DMS_RUNNER_TOKEN the job waits for a runner that serves it',
    async () => {
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const key = 'dms_routing_test_key';
      const env = { DMS_BACKEND: 'webgpu', DMS_API_KEY: key, DMS_DATA_DIR: join(dir, 'data-webgpu'), DMS_MODELS_DIR: join(dir, 'models-webgpu') };
      await writeTinyModels(env.DMS_MODELS_DIR);
      const body = JSON.stringify({
        requests: [
          { custom_id: 'a', prompt: 'C1:a3b7=', params: { max_tokens: 8 } },
          { custom_id: 'b', prompt: 'C1:a3b7=', params: { max_tokens: 8, compression: { method: 'tova', ratio: 2 } } },
        ],
      });
      const post = () => fetch(`${base}/v1/jobs`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body });

      const only = await start(port, env);
      expect(only.output()).toMatch(/backend webgpu does not serve tova, h2o, quest: such requests are refused at submission/);
      const refused = await post();
      expect(refused.status).toBe(400);
      expect((await refused.json()).error.issues).toEqual([
        {
          field: 'requests[1].params.compression.method',
          reason: "method 'tova' is not served by this gateway's runner (backend webgpu); backends that serve it: wasm, tensorflow, cpu",
        },
      ]);
      expect((await (await fetch(`${base}/v1/jobs`, { headers: { authorization: `Bearer ${key}` } })).json()).data).toEqual([]);
      expect(await stop(only.child)).toBe(0);

      const withRemote = await start(port, { ...env, DMS_RUNNER_TOKEN: 'routing-runner-token' });
      const accepted = await post();
      expect(accepted.status).toBe(201);
      const id = (await accepted.json()).id as string;
      // The in-process webgpu runner is woken by the submit and passes over the job: it stays queued.
      await new Promise((r) => setTimeout(r, 1_500));
      const view = await (await fetch(`${base}/v1/jobs/${id}`, { headers: { authorization: `Bearer ${key}` } })).json();
      expect(view).toMatchObject({ status: 'queued', request_counts: { queued: 2 } });
      const claim = await fetch(`${base}/v1/runner/claim`, {
        method: 'POST',
        headers: { authorization: 'Bearer routing-runner-token', 'content-type': 'application/json' },
        body: JSON.stringify({ runner_id: 'remote-wasm', backend: 'wasm', methods: ['none', 'tova'] }),
      });
      expect(claim.status).toBe(200);
      expect((await claim.json()).job.id).toBe(id);
      expect(await stop(withRemote.child)).toBe(0);
    },
    120_000,
  );
});

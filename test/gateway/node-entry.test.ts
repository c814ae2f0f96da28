// Starts gateway/node.ts as a child process on a free port with a temp DMS_DATA_DIR: /healthz,
// the printed-once API key, a job run by the in-process engine runner, and data surviving a restart.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../bench/reliability/gateway-process.js';
import { writeTinyModels } from '../runner-processes/tiny-models.js';

const root = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'dms-node-'));
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Starts the gateway; resolves with its output once it listens. */
function start(port: number): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/node.ts'], {
    cwd: root,
    env: { ...process.env, PORT: String(port), DMS_DATA_DIR: join(dir, 'data'), DMS_MODELS_DIR: join(dir, 'models'), DMS_API_KEY: '' },
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
});

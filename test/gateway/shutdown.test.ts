// `npm start` as a supervisor stops it: SIGTERM to the npm process reaches the gateway, whose runner
// finishes its job before the process exits with a shutdown line; if npm itself is killed, the gateway stops too.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openBetterSqlite } from '../../db/better-sqlite-db.js';
import { freePort, killAll, type Service, startService } from '../runner-processes/processes.js';
import { writeTinyModels } from '../runner-processes/tiny-models.js';

const dir = mkdtempSync(join(tmpdir(), 'dms-shutdown-'));
const KEY = 'dms_shutdown_test_key';
afterAll(() => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

/** `npm start` on a free port; resolves once the gateway listens. */
async function npmStart(env: Record<string, string> = {}): Promise<{ service: Service; base: string }> {
  const port = await freePort();
  const service = startService('npm', ['start'], {
    env: { PORT: String(port), DMS_DATA_DIR: join(dir, 'data'), DMS_MODELS_DIR: join(dir, 'models'), DMS_API_KEY: KEY, ...env },
  });
  await service.waitFor(/listening on/, 60_000);
  return { service, base: `http://127.0.0.1:${port}` };
}

const auth = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };

/** Submits a job of `count` requests (12 run in about a second here) and waits until the runner works on it. */
async function submitRunning(base: string, count: number): Promise<string> {
  const requests = Array.from({ length: count }, (_, i) => ({
    custom_id: `q${i}`,
    prompt: `C1:a${i}b7=`,
    params: { max_tokens: 480, n: 4, temperature: 1, seed: i },
  }));
  const job = await (await fetch(`${base}/v1/jobs`, { method: 'POST', headers: auth, body: JSON.stringify({ model: 'tiny', requests }) })).json();
  for (;;) {
    const view = await (await fetch(`${base}/v1/jobs/${job.id}`, { headers: auth })).json();
    if (view.status === 'running') return job.id;
    expect(view.status).toBe('queued');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The job's status and finished requests, read from the database file after the gateway exited. */
function stored(jobId: string) {
  const db = openBetterSqlite(join(dir, 'data', 'dms.sqlite'));
  const job = db.sqlite.prepare('SELECT status FROM jobs WHERE id = ?').get(jobId) as { status: string };
  const done = db.sqlite.prepare("SELECT COUNT(*) AS n FROM requests WHERE job_id = ? AND status != 'pending'").get(jobId) as { n: number };
  db.close();
  return { status: job.status, finished: done.n };
}

describe('stopping npm start', () => {
  it('SIGTERM to the npm process drains the runner (the job completes) and the gateway exits with a shutdown line', async () => {
    await writeTinyModels(join(dir, 'models'));
    const { service, base } = await npmStart();
    // Several seconds of work, so the signal lands while it runs however fast the machine (the drain allows 30 s).
    const jobId = await submitRunning(base, 48);
    process.kill(service.child.pid!, 'SIGTERM'); // npm only, as `kill <pid>` or a supervisor does
    await service.closed; // every process holding the output (npm and node) has exited
    expect(service.output()).toMatch(/SIGTERM: shutting down \(draining the in-process runner for up to 30 s/);
    expect(service.output()).toMatch(/dms-batch gateway stopped \(no job left running\)/);
    expect(stored(jobId)).toEqual({ status: 'completed', finished: 48 });
    // Drained, not raced: the runner completed the job after the signal arrived.
    expect(service.output().indexOf(`[runner] ${jobId} completed`)).toBeGreaterThan(service.output().indexOf('SIGTERM: shutting down'));
  });

  it('a killed npm takes the gateway with it: the running job goes back to the queue', async () => {
    const { service, base } = await npmStart({ DMS_DRAIN_SECONDS: '0' });
    // Long enough (tens of seconds) that the job cannot finish before the orphan watch notices, even on a fast machine.
    const jobId = await submitRunning(base, 400);
    process.kill(service.child.pid!, 'SIGKILL'); // npm cannot forward anything; node sees itself orphaned
    await service.closed;
    expect(service.output()).toMatch(/parent process \d+ \(npm\) exited: shutting down/);
    expect(service.output()).toMatch(/gateway stopped \(the running job was released to the queue\)/);
    expect(stored(jobId).status).toBe('queued');
  });
});

// Remote runners as real processes: two `npm run runner` against one `npm start` gateway (in-process
// runner off) on loopback. One is SIGKILLed mid-job: every request still ends with exactly one result
// and usage is not double counted. SIGTERM drains: the job is finished, or released when time runs out.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withGatewayProcess } from './gateway-process.js';
import { type Service, startService } from './processes.js';

const KEY = 'dms_runner_processes_key_0123456789';
const RUNNER_TOKEN = 'runner-processes-token';
const g = withGatewayProcess({
  prefix: 'dms-runners-',
  key: KEY,
  start: ({ dir, modelsDir, port }) =>
    startService('npm', ['start'], {
      env: {
        PORT: String(port),
        DMS_DATA_DIR: join(dir, 'data'),
        DMS_MODELS_DIR: modelsDir,
        DMS_API_KEY: KEY,
        DMS_RUNNER_TOKEN: RUNNER_TOKEN,
        DMS_INPROCESS_RUNNER: '0',
        DMS_LEASE_SECONDS: '3',
        DMS_SWEEP_SECONDS: '1',
        DMS_RATE_LIMIT_RPS: '1000',
        DMS_RATE_LIMIT_BURST: '1000',
      },
    }),
  ready: /listening on http/,
});
const api = g.api;
const job = async (id: string) => (await api('GET', `/v1/jobs/${id}`)).body;
const results = async (id: string) =>
  (await api('GET', `/v1/jobs/${id}/results`)).text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

function startRunner(id: string, extra: string[] = []): Service {
  return startService('npm', ['run', 'runner', '--', '--gateway', g.base, '--token', RUNNER_TOKEN, '--runner-id', id, '--heartbeat-ms', '500', ...extra], {
    env: { DMS_MODELS_DIR: g.modelsDir, DMS_RUNNER_TOKEN: undefined, DMS_GATEWAY_URL: undefined },
  });
}

/** A job whose requests finish one after another (staggered lengths; temperature > 0 never stops early on EOS alone). */
async function submit(name: string, lengths: number[], n = 4) {
  const requests = lengths.map((max_tokens, i) => ({ custom_id: `${name}-${i}`, prompt: `C1:a${i}b7=`, params: { max_tokens, temperature: 1, seed: i, n } }));
  const res = await api('POST', '/v1/jobs', { model: 'tiny', requests });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

const claimedBy = (runner: Service) => [...runner.output().matchAll(/claimed (job_[0-9a-f]+)/g)].map((m) => m[1]);

describe('npm run runner processes', () => {
  it('survive a SIGKILLed runner: one result per request, usage counted once, SIGTERM drains', async () => {
    const a = startRunner('runner-a');
    const b = startRunner('runner-b');
    await Promise.all([a.waitFor(/polling/, 60_000), b.waitFor(/polling/, 60_000)]);
    const lengths = [16, 64, 128, 256, 384, 480];
    const jobs = [await submit('j1', lengths), await submit('j2', lengths)];

    // Kill whichever runner claims first (an idle runner backs off up to 10 s between polls, so on a
    // fast machine one runner can take both jobs before the other wakes) once its job has some
    // results written but not all; the other runner is the survivor.
    const [first, survivor] = await until('a runner to claim a job', async () => (claimedBy(a).length ? [a, b] : claimedBy(b).length ? [b, a] : null));
    const victim = claimedBy(first)[0];
    await until('partial results', async () => {
      const counts = (await job(victim)).request_counts;
      return counts.succeeded >= 1 && counts.succeeded < lengths.length;
    });
    expect(await first.stop('SIGKILL')).toBeNull();
    const beforeRecovery = (await job(victim)).request_counts.succeeded;

    // The survivor finishes the other job, and takes over the victim's remaining requests after the lease expires.
    const finished = await until(
      'both jobs to complete',
      async () => {
        const views = await Promise.all(jobs.map(job));
        return views.every((v) => v.status === 'completed') && views;
      },
      150_000,
    );
    expect(claimedBy(survivor)).toContain(victim);
    for (const view of finished) {
      const lines = await results(view.id);
      expect(lines.map((l) => l.custom_id).sort()).toEqual(lengths.map((_, i) => `${view.id === jobs[0] ? 'j1' : 'j2'}-${i}`).sort());
      expect(lines.every((l) => l.status === 'succeeded')).toBe(true);
      const sum = (f: (l: (typeof lines)[number]) => number) => lines.reduce((s, l) => s + f(l), 0);
      expect(view.usage.num_results).toBe(lengths.length);
      expect(view.usage.prompt_tokens).toBe(sum((l) => l.usage.prompt_tokens));
      expect(view.usage.completion_tokens).toBe(sum((l) => l.usage.completion_tokens));
      expect(view.usage.completion_tokens).toBe(sum((l) => l.threads.reduce((s: number, t: { completion_tokens: number }) => s + t.completion_tokens, 0)));
      expect(view.usage.kv_token_reads).toBeCloseTo(
        sum((l) => l.usage.kv_token_reads),
        6,
      );
      expect(view.usage.runner_seconds).toBeCloseTo(
        sum((l) => l.usage.runner_seconds),
        6,
      );
    }
    const victimView = finished.find((v) => v.id === victim);
    expect(victimView.attempt).toBe(2);
    expect(victimView.usage.num_results).toBeGreaterThan(beforeRecovery);

    // SIGTERM while the survivor runs a job: it finishes it (drain), then exits 0 without claiming more.
    const drained = await submit('j3', [240, 360, 480]);
    await until('the survivor to claim j3', async () => claimedBy(survivor).includes(drained));
    const after = await submit('j4', [8], 1); // queued behind: a draining runner must not take it
    await survivor.stop('SIGTERM', 90_000); // npm itself dies of the signal; the runner below it drains and exits 0
    expect(survivor.output()).toMatch(/drained, no job running\n.*runner runner-[ab] stopped/s);
    expect(await job(drained)).toMatchObject({ status: 'completed', attempt: 1, request_counts: { succeeded: 3 } });
    expect(await job(after)).toMatchObject({ status: 'queued', attempt: 0 });

    // Out of drain time, the runner releases its job to the queue (the attempt is given back).
    const c = startRunner('runner-c', ['--drain-seconds', '1']);
    await c.waitFor(/polling/, 60_000);
    await until('runner C to claim j4', async () => claimedBy(c).includes(after));
    const long = await submit(
      'j5',
      Array.from({ length: 24 }, () => 500),
    );
    await until('runner C to claim j5', async () => claimedBy(c).includes(long));
    await c.stop('SIGTERM', 60_000);
    expect(c.output()).toMatch(/drain time of 1 s is over.*released job_.*runner runner-c stopped/s);
    expect(await job(after)).toMatchObject({ status: 'completed' });
    expect(await job(long)).toMatchObject({ status: 'queued', attempt: 0 });
  }, 300_000);
});

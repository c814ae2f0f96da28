// The runner loop against both job sources (the store directly, and HTTP through app.request):
// lifecycle with results written one by one, cancel via heartbeat, lost lease, executor failure,
// graceful stop (release), a crashed runner's results kept, and polling until work arrives.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClaimedJob, ExecutionContext, Executor, PendingRequest } from '../../gpu-runner/executor.js';
import { HttpJobSource } from '../../gpu-runner/http-source.js';
import type { JobSource } from '../../gpu-runner/job-source.js';
import { LocalStoreSource } from '../../gpu-runner/local-store-source.js';
import { RunnerLoop } from '../../gpu-runner/runner-loop.js';
import { createApp } from '../../gateway/app.js';
import { type Harness, jobBody, makeHarness, okResult, RUNNER_TOKEN, TEST_CATALOG } from '../gateway/harness.js';

/**
 * TEST FAKE, not an engine: answers each request with its custom_id reversed, after running
 * `beforeEach` (a hook the test uses to wait, observe or throw). Records what it was asked to run.
 */
class FakeExecutor implements Executor {
  readonly backend = 'test-fake';
  received: string[][] = [];
  constructor(private readonly hook: (req: PendingRequest, ctx: ExecutionContext, index: number) => Promise<void> = async () => {}) {}
  async execute(_job: ClaimedJob, requests: PendingRequest[], ctx: ExecutionContext): Promise<void> {
    this.received.push(requests.map((r) => r.custom_id));
    for (const [i, req] of requests.entries()) {
      if (ctx.signal.aborted) return;
      await this.hook(req, ctx, i);
      if (ctx.signal.aborted) return;
      await ctx.onResult(okResult(req.custom_id, [...req.custom_id].reverse().join('')));
    }
  }
}

const untilAborted = (signal: AbortSignal) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
const quiet = { log: () => {}, heartbeatMs: 10, pollMinMs: 5, pollMaxMs: 20 };

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(() => h.close());

const sources: Array<[string, () => JobSource]> = [
  ['local store', () => new LocalStoreSource(h.store)],
  [
    'HTTP',
    () => new HttpJobSource({ baseUrl: 'http://gateway', token: RUNNER_TOKEN, fetch: (url, init) => Promise.resolve(h.app.request(url as string, init)) }),
  ],
];

describe.each(sources)('runner loop via %s', (_name, makeSource) => {
  it('runs a job, writing each result as it finishes, then completes it', async () => {
    const job = (await h.submit(jobBody(3))).body.id;
    const seenSucceeded: number[] = [];
    const executor = new FakeExecutor(async () => {
      seenSucceeded.push((await h.getJob(job)).body.request_counts.succeeded);
    });
    const loop = new RunnerLoop(makeSource(), executor, { runnerId: 'gpu-1', ...quiet });
    expect(await loop.runOnce()).toBe('completed');
    expect(seenSucceeded).toEqual([0, 1, 2]);
    const view = (await h.getJob(job)).body;
    expect(view).toMatchObject({ status: 'completed', request_counts: { succeeded: 3 } });
    expect((await h.results(job)).lines.map((l) => l.answer)).toEqual(['0r', '1r', '2r']);
    expect(await loop.runOnce()).toBe('idle');
    const health = await (await h.call('GET', '/healthz', { token: null })).json();
    expect(health.runners).toEqual([expect.objectContaining({ runner_id: 'gpu-1', backend: 'test-fake' })]);
  });

  it('stops on cancel brought by the heartbeat and keeps finished results', async () => {
    const job = (await h.submit(jobBody(3))).body.id;
    const executor = new FakeExecutor(async (_req, ctx, i) => {
      if (i === 1) {
        await h.call('POST', `/v1/jobs/${job}/cancel`);
        await untilAborted(ctx.signal);
      }
    });
    const loop = new RunnerLoop(makeSource(), executor, { runnerId: 'gpu-1', ...quiet });
    expect(await loop.runOnce()).toBe('canceled');
    const view = (await h.getJob(job)).body;
    expect(view).toMatchObject({ status: 'canceled', request_counts: { succeeded: 1, canceled: 2 } });
  });

  it('stops working on a job whose lease was lost, without writing more', async () => {
    const job = (await h.submit(jobBody(3))).body.id;
    const executor = new FakeExecutor(async (_req, _ctx, i) => {
      if (i === 1) {
        h.backdateLease(job);
        await h.store.sweep();
      }
    });
    const loop = new RunnerLoop(makeSource(), executor, { runnerId: 'gpu-1', ...quiet, heartbeatMs: 60_000 });
    expect(await loop.runOnce()).toBe('stale');
    const view = (await h.getJob(job)).body;
    expect(view).toMatchObject({ status: 'queued', request_counts: { succeeded: 1, queued: 2 } });
  });

  it('fails the job with the executor’s error', async () => {
    const job = (await h.submit(jobBody(2))).body.id;
    const executor = new FakeExecutor(async (_req, _ctx, i) => {
      if (i === 1) throw new Error('checkpoint reasoner-dms-r4 not found');
    });
    const loop = new RunnerLoop(makeSource(), executor, { runnerId: 'gpu-1', ...quiet });
    expect(await loop.runOnce()).toBe('failed');
    const view = (await h.getJob(job)).body;
    expect(view).toMatchObject({ status: 'failed', error: { message: 'checkpoint reasoner-dms-r4 not found' }, request_counts: { succeeded: 1, failed: 1 } });
  });
});

describe('runner lifecycle', () => {
  it('polls until work arrives, and stop() releases the running job without counting the attempt', async () => {
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const executor = new FakeExecutor(async (_req, ctx, i) => {
      if (i === 1) {
        started();
        await untilAborted(ctx.signal);
      }
    });
    const loop = new RunnerLoop(new LocalStoreSource(h.store), executor, { runnerId: 'gpu-1', ...quiet });
    loop.start();
    await new Promise((r) => setTimeout(r, 30)); // a few empty polls
    const job = (await h.submit(jobBody(3))).body.id;
    await running;
    await loop.stop();
    const view = (await h.getJob(job)).body;
    expect(view).toMatchObject({ status: 'queued', attempt: 0, request_counts: { succeeded: 1, queued: 2 } });
  });

  it('a restarted runner gets only the requests a crashed one had not finished', async () => {
    const job = (await h.submit(jobBody(4))).body.id;
    let wake!: () => void;
    const hung = new Promise<void>((resolve) => (wake = resolve));
    let crashedAt!: () => void;
    const crashed = new Promise<void>((resolve) => (crashedAt = resolve));
    // The first runner writes two results, then hangs (as if its process froze) and stops heartbeating.
    const first = new FakeExecutor(async (_req, _ctx, i) => {
      if (i === 2) {
        crashedAt();
        await hung;
      }
    });
    const loopA = new RunnerLoop(new LocalStoreSource(h.store), first, { runnerId: 'gpu-a', ...quiet, heartbeatMs: 60_000 });
    const outcomeA = loopA.runOnce();
    await crashed;
    h.backdateLease(job);
    await h.store.sweep();
    h.advance(60_000);
    const second = new FakeExecutor();
    const loopB = new RunnerLoop(new LocalStoreSource(h.store), second, { runnerId: 'gpu-b', ...quiet });
    expect(await loopB.runOnce()).toBe('completed');
    expect(second.received).toEqual([['r2', 'r3']]);
    wake(); // the frozen runner wakes up: its writes are refused and it stops
    expect(await outcomeA).toBe('stale');
    const rows = h.sqlDb.sqlite.prepare('SELECT custom_id, attempt FROM requests WHERE job_id = ? ORDER BY idx').all(job);
    expect(rows).toEqual([
      { custom_id: 'r0', attempt: 1 },
      { custom_id: 'r1', attempt: 1 },
      { custom_id: 'r2', attempt: 2 },
      { custom_id: 'r3', attempt: 2 },
    ]);
    expect((await h.getJob(job)).body).toMatchObject({ status: 'completed', request_counts: { succeeded: 4 } });
  });
});

describe('waking the runner on submit', () => {
  /** Resolves on the first claim that finds nothing (the loop then starts its long idle wait). */
  class ObservedSource extends LocalStoreSource {
    idle!: () => void;
    readonly firstIdle = new Promise<void>((resolve) => (this.idle = resolve));
    override async claim(input: Parameters<LocalStoreSource['claim']>[0]) {
      const claim = await super.claim(input);
      if (!claim) this.idle();
      return claim;
    }
  }

  /** Rejects if `promise` has not settled within ms: a generous bound, far below the runner's 10-minute wait. */
  const within = <T>(promise: Promise<T>, ms: number, what: string) =>
    Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} not within ${ms} ms`)), ms))]);

  it.each(['POST /v1/jobs', 'POST /v1/batches'])('an idle runner in its longest wait claims a job stored by %s at once', async (route) => {
    const source = new ObservedSource(h.store);
    let ran!: (jobId: string) => void;
    const claimed = new Promise<string>((resolve) => (ran = resolve));
    const executor: Executor = {
      backend: 'test-fake',
      execute: async (job, requests, ctx) => {
        ran(job.id);
        for (const r of requests) await ctx.onResult(okResult(r.custom_id));
      },
    };
    // Without a wake this runner would next poll in 10 minutes.
    const loop = new RunnerLoop(source, executor, { runnerId: 'woken', log: () => {}, heartbeatMs: 60_000, pollMinMs: 600_000, pollMaxMs: 600_000 });
    const app = createApp({ store: h.store, models: TEST_CATALOG, auth: { runnerTokens: [] }, clock: h.now, wakeRunners: () => loop.wake() });
    const auth = { authorization: `Bearer ${h.keyA}` };
    loop.start();
    await source.firstIdle;
    let jobId: string;
    if (route === 'POST /v1/jobs') {
      const res = await app.request('/v1/jobs', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(jobBody(1)) });
      jobId = (await res.json()).id;
    } else {
      const form = new FormData();
      form.append('purpose', 'batch');
      const line = { custom_id: 'a', method: 'POST', url: '/v1/completions', body: { model: 'reasoner', prompt: 'Q:1=', max_tokens: 4 } };
      form.append('file', new File([`${JSON.stringify(line)}\n`], 'in.jsonl'));
      const file = await (await app.request('/v1/files', { method: 'POST', headers: auth, body: form })).json();
      const body = JSON.stringify({ input_file_id: file.id, endpoint: '/v1/completions', completion_window: '24h' });
      const batch = await (await app.request('/v1/batches', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body })).json();
      jobId = batch.job_id;
    }
    expect(await within(claimed, 5_000, 'claim after submit')).toBe(jobId);
    await loop.stop();
  });
});

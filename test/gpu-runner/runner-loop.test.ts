// The runner loop against both job sources (the store directly, and HTTP through app.request):
// lifecycle with results written one by one, cancel via heartbeat, lost lease, executor failure,
// graceful stop (release), a crashed runner's results kept, and polling until work arrives.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClaimedJob, ExecutionContext, Executor, PendingRequest } from '../../gpu-runner/executor.js';
import { HttpJobSource } from '../../gpu-runner/http-source.js';
import type { JobSource } from '../../gpu-runner/job-source.js';
import { LocalStoreSource } from '../../gpu-runner/local-store-source.js';
import { RunnerLoop } from '../../gpu-runner/runner-loop.js';
import { type Harness, jobBody, makeHarness, okResult, RUNNER_TOKEN } from '../gateway/harness.js';

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

// The runner protocol over HTTP: claims never hand one job to two runners, expired leases are
// swept back with backoff (leases backdated in SQL, no sleeping), stale runners get 409 and change
// nothing, jobs fail after max attempts with the reason, and results survive a runner restart.
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, jobBody, makeHarness, okResult } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await makeHarness({ store: { leaseMs: 30_000, maxAttempts: 3, backoffBaseMs: 5_000 } });
});
afterEach(() => h.close());

const claim = (runnerId: string, extra: Record<string, unknown> = {}) => h.runner('/claim', { runner_id: runnerId, ...extra });

describe('claim', () => {
  it('answers 204 when nothing is queued and hands out jobs oldest first', async () => {
    expect((await claim('gpu-1')).status).toBe(204);
    const a = (await h.submit(jobBody(1))).body.id;
    const b = (await h.submit(jobBody(1))).body.id;
    expect((await claim('gpu-1')).body.job.id).toBe(a);
    expect((await claim('gpu-2')).body.job.id).toBe(b);
    expect((await claim('gpu-3')).status).toBe(204);
  });

  it('only claims jobs for the models a runner asks for', async () => {
    const tiny = (await h.submit({ model: 'tiny', ...jobBody(1), defaults: { max_tokens: 16 } })).body.id;
    expect((await claim('gpu-1', { models: ['reasoner'] })).status).toBe(204);
    expect((await claim('gpu-1', { models: ['tiny'] })).body.job.id).toBe(tiny);
  });

  it('never gives the same job to two runners claiming concurrently (two connections, one file)', async () => {
    const path = join(tmpdir(), `dms-claim-${process.pid}-${Date.now()}.sqlite`);
    const one = await makeHarness({ path });
    const two = await makeHarness({ path, store: {} });
    try {
      for (let i = 0; i < 10; i++) await one.submit(jobBody(2));
      const claims = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? one : two).runner('/claim', { runner_id: `gpu-${i}` })));
      const ids = claims.filter((c) => c.status === 200).map((c) => c.body.job.id);
      expect(ids).toHaveLength(10);
      expect(new Set(ids).size).toBe(10);
      expect(claims.filter((c) => c.status === 204)).toHaveLength(20);
    } finally {
      one.close();
      two.close();
      for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
    }
  });
});

describe('leases', () => {
  it('requeues an expired lease with backoff and refuses the stale runner’s writes with 409', async () => {
    const job = (await h.submit(jobBody(3))).body.id;
    const first = (await claim('gpu-old')).body.lease.lease_token;
    expect((await h.runner(`/jobs/${job}/results`, { lease_token: first, results: [okResult('r0', 'old')] })).status).toBe(200);
    h.backdateLease(job);
    // The next claim sweeps first: the job goes back to the queue, not yet claimable (backoff 5 s).
    expect((await claim('gpu-new')).status).toBe(204);
    let view = (await h.getJob(job)).body;
    expect(view).toMatchObject({ status: 'queued', attempt: 1 });
    expect(view.request_counts).toMatchObject({ queued: 2, succeeded: 1 });

    for (const [verb, extra] of [
      ['heartbeat', {}],
      ['results', { results: [okResult('r1')] }],
      ['complete', {}],
      ['fail', { reason: 'x' }],
      ['release', {}],
    ] as const) {
      const res = await h.runner(`/jobs/${job}/${verb}`, { lease_token: first, ...extra });
      expect(res.status, verb).toBe(409);
      expect(res.body.error.type).toBe('stale_lease');
    }
    h.advance(5_001);
    const second = (await claim('gpu-new')).body;
    expect(second.lease.attempt).toBe(2);
    expect(second.requests.map((r: { custom_id: string }) => r.custom_id)).toEqual(['r1', 'r2']);
    // The old token stays stale even now that the job runs again.
    expect((await h.runner(`/jobs/${job}/results`, { lease_token: first, results: [okResult('r1', 'stale')] })).status).toBe(409);
    view = (await h.getJob(job)).body;
    expect(view.request_counts).toMatchObject({ running: 2, succeeded: 1 });
  });

  it('heartbeats keep a lease alive past its original expiry', async () => {
    const job = (await h.submit(jobBody(1))).body.id;
    const lease = (await claim('gpu-1')).body.lease.lease_token;
    for (let i = 0; i < 4; i++) {
      h.advance(20_000);
      expect((await h.runner(`/jobs/${job}/heartbeat`, { lease_token: lease })).status).toBe(200);
    }
    expect((await claim('gpu-2')).status).toBe(204); // sweep found nothing to take back
    h.advance(30_001);
    expect((await h.runner(`/jobs/${job}/heartbeat`, { lease_token: lease })).status).toBe(409);
  });

  it('fails the job with the reason after the maximum number of attempts', async () => {
    const job = (await h.submit(jobBody(2))).body.id;
    for (let attempt = 1; attempt <= 3; attempt++) {
      const c = await claim(`gpu-${attempt}`);
      expect(c.body.lease.attempt).toBe(attempt);
      if (attempt === 1) await h.runner(`/jobs/${job}/results`, { lease_token: c.body.lease.lease_token, results: [okResult('r0')] });
      h.backdateLease(job);
      await h.store.sweep();
      h.advance(60_000); // past any backoff
    }
    const view = (await h.getJob(job)).body;
    expect(view.status).toBe('failed');
    expect(view.failed_at).not.toBeNull();
    expect(view.error.code).toBe('lease_expired');
    expect(view.error.message).toMatch(/attempt 3 of 3 \(runner gpu-3\)/);
    expect(view.request_counts).toMatchObject({ succeeded: 1, failed: 1 });
    const lines = (await h.results(job)).lines;
    expect(lines.map((l) => l.status)).toEqual(['succeeded', 'failed']);
    expect((await claim('gpu-9')).status).toBe(204);
  });

  it('keeps results written before a crash and never redoes or overwrites them', async () => {
    const job = (await h.submit(jobBody(4))).body.id;
    const crashed = (await claim('gpu-1')).body.lease.lease_token;
    await h.runner(`/jobs/${job}/results`, { lease_token: crashed, results: [okResult('r0', 'first'), okResult('r2', 'first')] });
    h.backdateLease(job); // the runner died without a word
    expect((await h.store.sweep()).requeued).toBe(1);
    h.advance(5_000); // the first backoff
    const restarted = (await claim('gpu-1')).body;
    expect(restarted.requests.map((r: { custom_id: string }) => r.custom_id)).toEqual(['r1', 'r3']);
    const lease = restarted.lease.lease_token;
    const w = await h.runner(`/jobs/${job}/results`, { lease_token: lease, results: [okResult('r0', 'second'), okResult('r1', 'second')] });
    expect(w.body).toEqual({ written: ['r1'], already_written: ['r0'] });
    await h.runner(`/jobs/${job}/results`, { lease_token: lease, results: [okResult('r3', 'second')] });
    expect((await h.runner(`/jobs/${job}/complete`, { lease_token: lease })).body.status).toBe('completed');
    const answers = (await h.results(job)).lines.map((l) => [l.custom_id, l.answer]);
    expect(answers).toEqual([
      ['r0', 'first'],
      ['r1', 'second'],
      ['r2', 'first'],
      ['r3', 'second'],
    ]);
    const attempts = h.sqlDb.sqlite.prepare('SELECT custom_id, attempt FROM requests WHERE job_id = ? ORDER BY idx').all(job);
    expect(attempts).toEqual([
      { custom_id: 'r0', attempt: 1 },
      { custom_id: 'r1', attempt: 2 },
      { custom_id: 'r2', attempt: 1 },
      { custom_id: 'r3', attempt: 2 },
    ]);
  });

  it('cancels a canceling job whose runner vanished instead of requeueing it', async () => {
    const job = (await h.submit(jobBody(2))).body.id;
    await claim('gpu-1');
    await h.call('POST', `/v1/jobs/${job}/cancel`);
    h.backdateLease(job);
    expect(await h.store.sweep()).toEqual({ requeued: 0, failed: 0, canceled: 1 });
    const view = (await h.getJob(job)).body;
    expect(view.status).toBe('canceled');
    expect(view.request_counts.canceled).toBe(2);
  });
});

describe('fail and release', () => {
  it('fail records the runner’s reason on the job and its unfinished requests', async () => {
    const job = (await h.submit(jobBody(2))).body.id;
    const lease = (await claim('gpu-1')).body.lease.lease_token;
    await h.runner(`/jobs/${job}/results`, { lease_token: lease, results: [okResult('r0')] });
    expect((await h.runner(`/jobs/${job}/fail`, { lease_token: lease, reason: 'model weights missing' })).body.status).toBe('failed');
    const view = (await h.getJob(job)).body;
    expect(view).toMatchObject({ status: 'failed', error: { code: 'runner_failed', message: 'model weights missing' } });
    const lines = (await h.results(job)).lines;
    expect(lines[1]).toMatchObject({ custom_id: 'r1', status: 'failed', error: { code: 'runner_failed' } });
  });

  it('release puts the job straight back without counting the attempt', async () => {
    const job = (await h.submit(jobBody(2))).body.id;
    const lease = (await claim('gpu-1')).body.lease.lease_token;
    expect((await h.runner(`/jobs/${job}/release`, { lease_token: lease })).body.status).toBe('queued');
    const again = (await claim('gpu-2')).body;
    expect(again.job.id).toBe(job);
    expect(again.lease.attempt).toBe(1);
  });
});

// The job store below HTTP: claims from several processes on one SQLite file never overlap,
// multi-row writes stay within D1's 100-parameter statements, and the sweep's backoff doubles.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openBetterSqlite } from '../../db/better-sqlite-db.js';
import { createJobStore, type NewJob } from '../../db/job-store.js';
import { SYSTEM_DEFAULTS } from '../../protocol/index.js';
import { okResult } from '../gateway/harness.js';

/** Starts a claim worker; resolves `ready` once it has opened the database. */
function startWorker(path: string, runnerId: string) {
  const tsx = join(import.meta.dirname, '../../node_modules/.bin/tsx');
  const child = spawn(tsx, [join(import.meta.dirname, 'claim-worker.ts'), path, runnerId], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  let onReady: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.on('data', (chunk) => {
    out += chunk;
    if (out.includes('ready\n')) onReady();
  });
  const done = new Promise<string[]>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop() as string)) : reject(new Error(`worker exit ${code}`))));
  });
  return { ready, done, go: () => child.stdin.end('go\n'), kill: () => child.kill() };
}

function newJob(tenantId: string, n: number): NewJob {
  return {
    tenantId,
    model: 'reasoner',
    defaults: null,
    metadata: null,
    idempotencyKey: null,
    bodyHash: null,
    requests: Array.from({ length: n }, (_, i) => ({ customId: `r${i}`, prompt: `p${i}`, params: SYSTEM_DEFAULTS, expectedAnswer: null })),
  };
}

describe('claim across processes', () => {
  it('three processes claiming from one file at once never get the same job', async () => {
    const path = join(tmpdir(), `dms-race-${process.pid}-${Date.now()}.sqlite`);
    const sqlDb = openBetterSqlite(path);
    const store = createJobStore(sqlDb);
    await store.ensureTenant('t');
    const ids: string[] = [];
    for (let i = 0; i < 150; i++) {
      const out = await store.submit(newJob('t', 1));
      if (out.kind === 'created') ids.push(out.job.id);
    }
    try {
      const workers = ['a', 'b', 'c'].map((r) => startWorker(path, r));
      await Promise.all(workers.map((w) => w.ready));
      for (const w of workers) w.go();
      const perWorker = await Promise.all(workers.map((w) => w.done));
      const claimed = perWorker.flat();
      expect(claimed).toHaveLength(150);
      expect(new Set(claimed)).toEqual(new Set(ids));
      // All three really competed (otherwise this proves nothing about concurrency).
      expect(perWorker.filter((ids) => ids.length > 0).length).toBeGreaterThanOrEqual(2);
      const attempts = sqlDb.sqlite.prepare("SELECT count(*) AS n FROM jobs WHERE attempt = 1 AND status = 'running'").get() as { n: number };
      expect(attempts.n).toBe(150);
    } finally {
      sqlDb.close();
      for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
    }
  });
});

describe('D1-sized statements', () => {
  it('stores, counts and writes a 1,000-request job with at most 100 bound parameters per statement', async () => {
    const base = openBetterSqlite(':memory:');
    const statements: number[] = [];
    const sqlDb = {
      ...base,
      maxBoundParams: 100,
      batch: (s: Parameters<typeof base.batch>[0]) => {
        for (const q of s) statements.push((q as unknown as { toSQL(): { params: unknown[] } }).toSQL().params.length);
        return base.batch(s);
      },
    };
    const store = createJobStore(sqlDb);
    await store.ensureTenant('t');
    const out = await store.submit(newJob('t', 1000));
    expect(out.kind).toBe('created');
    expect(Math.max(...statements)).toBeLessThanOrEqual(100);
    const claim = await store.claim({ runnerId: 'gpu' });
    expect(claim?.requests).toHaveLength(1000);
    const lease = claim!.lease.lease_token;
    const write = await store.writeResults(
      claim!.job.id,
      lease,
      Array.from({ length: 300 }, (_, i) => okResult(`r${i}`)),
    );
    expect(write.ok && write.written.length).toBe(300);
    expect(Math.max(...statements)).toBeLessThanOrEqual(100);
    const job = await store.getJob('t', claim!.job.id);
    expect(job?.request_counts).toMatchObject({ total: 1000, running: 700, succeeded: 300 });
    base.close();
  });
});

describe('sweep backoff', () => {
  it('doubles the requeue delay with each expired attempt, capped', async () => {
    let now = 1_000_000;
    const sqlDb = openBetterSqlite(':memory:');
    const store = createJobStore(sqlDb, { clock: () => now, maxAttempts: 5, backoffBaseMs: 1_000, backoffMaxMs: 3_000, leaseMs: 10_000 });
    await store.ensureTenant('t');
    await store.submit(newJob('t', 1));
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 4; attempt++) {
      const claim = await store.claim({ runnerId: 'gpu' });
      expect(claim?.lease.attempt).toBe(attempt);
      now += 10_000; // lease expires
      expect((await store.sweep()).requeued).toBe(1);
      const row = sqlDb.sqlite.prepare('SELECT not_before AS t FROM jobs').get() as { t: number };
      delays.push(row.t - now);
      now = row.t;
    }
    expect(delays).toEqual([1_000, 2_000, 3_000, 3_000]);
    sqlDb.close();
  });
});

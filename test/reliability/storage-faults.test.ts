// Storage faults in process: a database locked by another connection and a full database
// (max_page_count) answer a clear 503 with Retry-After, change nothing, keep reads working, recover
// on their own, and leave a store whose integrity check passes. Also the stated SQLite settings.
import Database from 'better-sqlite3';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { describeSqlite, integrityCheck, openBetterSqlite } from '../../db/better-sqlite-db.js';
import { makeSecurityApp, oneJob, RUNNER_TOKEN } from '../security/security-app.js';

let close: (() => void) | null = null;
afterEach(() => {
  close?.();
  close = null;
});

type ErrorBody = { error: { type: string; issues: Array<{ field: string; reason: string }> } };

describe('a locked database', () => {
  it('gives 503 + Retry-After on writes while another connection holds the write lock; reads go on', async () => {
    const t = await makeSecurityApp();
    close = t.close;
    const first = (await (await t.call('POST', '/v1/jobs', { body: oneJob() })).json()) as { id: string };
    const other = new Database(t.path);
    other.exec('BEGIN IMMEDIATE');
    const refused = await t.call('POST', '/v1/jobs', { body: oneJob() });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    const body = (await refused.json()) as ErrorBody;
    expect(body.error.type).toBe('unavailable');
    expect(body.error.issues[0]).toEqual({ field: 'storage', reason: 'locked (SQLITE_BUSY)' });
    expect((await t.call('POST', '/v1/runner/claim', { token: RUNNER_TOKEN, body: { runner_id: 'r' } })).status).toBe(503);
    expect((await t.call('GET', `/v1/jobs/${first.id}`)).status).toBe(200);
    other.exec('ROLLBACK');
    other.close();
    expect(t.countJobs()).toBe(1);
    expect((await t.call('POST', '/v1/jobs', { body: oneJob() })).status).toBe(201);
    expect(integrityCheck(t.sqlDb.sqlite)).toEqual({ ok: true, problems: [] });
  });
});

describe('a full database', () => {
  it('gives 503 + Retry-After, keeps every accepted job whole, and accepts again once space is back', async () => {
    const t = await makeSecurityApp();
    close = t.close;
    const pages = Number(t.sqlDb.sqlite.pragma('page_count', { simple: true }));
    t.sqlDb.sqlite.pragma(`max_page_count = ${pages + 40}`);
    const big = () => ({ requests: Array.from({ length: 8 }, (_, i) => ({ custom_id: `r${i}`, prompt: 'x'.repeat(3000), params: { max_tokens: 8 } })) });
    const accepted: string[] = [];
    let refused: Response | null = null;
    for (let i = 0; i < 100 && !refused; i++) {
      const res = await t.call('POST', '/v1/jobs', { body: big() });
      if (res.status === 201) accepted.push(((await res.json()) as { id: string }).id);
      else refused = res;
    }
    expect(accepted.length).toBeGreaterThan(0);
    expect(refused?.status).toBe(503);
    expect(refused?.headers.get('retry-after')).toBe('30');
    expect(((await refused!.json()) as ErrorBody).error.issues[0]).toEqual({ field: 'storage', reason: 'full (SQLITE_FULL)' });
    // Runner writes hit the same wall with the same answer, and the lease survives it.
    const claim = (await (await t.call('POST', '/v1/runner/claim', { token: RUNNER_TOKEN, body: { runner_id: 'r' } })).json()) as {
      job: { id: string };
      lease: { lease_token: string };
    };
    const result = { custom_id: 'r0', status: 'succeeded', answer: 'y'.repeat(200_000), threads: [], usage: null, timings: null, error: null };
    const write = await t.call('POST', `/v1/runner/jobs/${claim.job.id}/results`, {
      token: RUNNER_TOKEN,
      body: { lease_token: claim.lease.lease_token, results: [result] },
    });
    expect(write.status).toBe(503);
    for (const id of accepted) {
      const job = (await (await t.call('GET', `/v1/jobs/${id}`)).json()) as { request_counts: { total: number; succeeded: number } };
      expect(job.request_counts.total).toBe(8);
      expect(job.request_counts.succeeded).toBe(0);
    }
    expect(integrityCheck(t.sqlDb.sqlite).ok).toBe(true);
    t.sqlDb.sqlite.pragma('max_page_count = 1073741823');
    expect((await t.call('POST', '/v1/jobs', { body: big() })).status).toBe(201);
    const retry = await t.call('POST', `/v1/runner/jobs/${claim.job.id}/results`, {
      token: RUNNER_TOKEN,
      body: { lease_token: claim.lease.lease_token, results: [result] },
    });
    expect(retry.status).toBe(200);
  });
});

describe('SQLite settings and the integrity check', () => {
  it('runs WAL with synchronous NORMAL and a busy timeout by default; FULL on request', async () => {
    const t = await makeSecurityApp();
    close = t.close;
    expect(describeSqlite(t.sqlDb.sqlite)).toEqual({ journalMode: 'wal', synchronous: 'NORMAL', busyTimeoutMs: 50 });
    const full = openBetterSqlite(join(t.dir, 'full.sqlite'), { synchronous: 'FULL' });
    expect(describeSqlite(full.sqlite)).toEqual({ journalMode: 'wal', synchronous: 'FULL', busyTimeoutMs: 2000 });
    full.close();
    expect(() => openBetterSqlite(join(t.dir, 'x.sqlite'), { synchronous: 'OFF' as 'FULL' })).toThrow(/NORMAL or FULL/);
  });

  it('reports a damaged file (so a passing check means something)', async () => {
    const t = await makeSecurityApp();
    close = t.close;
    for (let i = 0; i < 30; i++) await t.call('POST', '/v1/jobs', { body: oneJob(`Q:${i}`.padEnd(500, 'z')) });
    t.sqlDb.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    expect(integrityCheck(t.sqlDb.sqlite).ok).toBe(true);
    const pageSize = Number(t.sqlDb.sqlite.pragma('page_size', { simple: true }));
    const fd = openSync(t.path, 'r+');
    writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, pageSize * 4);
    closeSync(fd);
    const damaged = new Database(t.path, { readonly: true });
    const report = integrityCheck(damaged);
    damaged.close();
    expect(report.ok).toBe(false);
    expect(report.problems.length).toBeGreaterThan(0);
  });
});

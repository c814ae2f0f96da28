// What only PostgreSQL has to show: the claim skips a row another transaction holds (SKIP LOCKED)
// instead of waiting, gateways migrating at once do not collide, and a lost server gives 503 and recovers.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PostgresServer } from '../../bench/reliability/postgres-server.js';
import { createJobStore } from '../../db/job-store.js';
import { openPostgres, PG_MIGRATIONS_DIR, type PostgresDb } from '../../db/pg/node-postgres-db.js';
import { createApp } from '../../gateway/app.js';
import { jobBody, TEST_CATALOG } from '../gateway/harness.js';
import { newJob } from './store-cases.js';
import { postgresAvailable, testPostgres } from './store-drivers.js';

let server: PostgresServer | null = null;
let baseUrl = '';
const handles: PostgresDb[] = [];
const quietLog = { verbose: false, info: () => {}, warn: () => {}, error: () => {} };

async function database(name: string): Promise<string> {
  if (!server) throw new Error('these cases stop and start the server: they need a throwaway one, not DMS_TEST_DATABASE_URL');
  return server.createDatabase(name);
}

async function open(url: string, poolSize = 4): Promise<PostgresDb> {
  const handle = await openPostgres(url, { poolSize, connectionTimeoutMs: 1_000 });
  handles.push(handle);
  return handle;
}

describe.skipIf(!postgresAvailable() || Boolean(process.env.DMS_TEST_DATABASE_URL))('PostgreSQL store', () => {
  beforeAll(async () => {
    const pgInfo = await testPostgres();
    server = pgInfo?.server ?? null;
    baseUrl = pgInfo?.url ?? '';
  }, 60_000);

  afterAll(async () => {
    for (const h of handles) await h.close().catch(() => {});
    server?.destroy();
  });

  it('claims past a job another transaction has locked, without waiting for it', async () => {
    const handle = await open(await database('skip_locked'));
    const store = createJobStore(handle);
    await store.ensureTenant('acme');
    const first = await store.submit(newJob(1));
    const second = await store.submit(newJob(1));
    const holder = new pg.Client({ connectionString: baseUrl.replace(/\/postgres$/, '/skip_locked') });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT id FROM jobs WHERE id = $1 FOR UPDATE', [first.kind === 'created' && first.job.id]);
      const started = Date.now();
      const claim = await store.claim({ runnerId: 'gpu-1' });
      expect(claim?.job.id).toBe(second.kind === 'created' && second.job.id);
      expect(Date.now() - started).toBeLessThan(2_000);
      // Only the locked job is left; a claim skips it too rather than block.
      expect(await store.claim({ runnerId: 'gpu-2' })).toBeNull();
      await holder.query('ROLLBACK');
      expect((await store.claim({ runnerId: 'gpu-2' }))?.job.id).toBe(first.kind === 'created' && first.job.id);
    } finally {
      await holder.end();
    }
  });

  it('several gateways migrating one empty database at once all start, and the migrations run once', async () => {
    const url = await database('migrate_race');
    const opened = await Promise.all([open(url, 1), open(url, 1), open(url, 1)]);
    const { rows } = await opened[0].pool.query('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations');
    const journal = JSON.parse(readFileSync(join(PG_MIGRATIONS_DIR, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] };
    expect(journal.entries.length).toBeGreaterThan(1);
    expect(rows[0].n).toBe(journal.entries.length); // each migration once, not once per gateway
    const store = createJobStore(opened[2]);
    await store.ensureTenant('t');
    expect((await store.submit({ ...newJob(1), tenantId: 't' })).kind).toBe('created');
  });

  it('named statements are prepared once per connection; with namedStatements off (DMS_PG_NAMED_STATEMENTS=0) none is', async () => {
    const url = await database('unnamed');
    const prepared: Record<string, number> = {};
    for (const namedStatements of [true, false]) {
      // One connection, so the view below reads the session the store's statements ran on.
      const handle = await openPostgres(url, { poolSize: 1, connectionTimeoutMs: 1_000, namedStatements });
      handles.push(handle);
      const store = createJobStore(handle);
      await store.ensureTenant('t');
      const submitted = await store.submit({ ...newJob(2), tenantId: 't' });
      expect(submitted.kind).toBe('created');
      expect((await store.claim({ runnerId: `r-${namedStatements}` }))?.requests).toHaveLength(2);
      const { rows } = await handle.pool.query('SELECT count(*)::int AS n FROM pg_prepared_statements');
      prepared[String(namedStatements)] = rows[0].n;
    }
    expect(prepared.true).toBeGreaterThan(1); // the submit and the claim's statements at least
    expect(prepared.false).toBe(0);
  });

  it('a terminated connection or a stopped server gives 503 with Retry-After, and the gateway recovers', async () => {
    const url = await database('outage');
    const handle = await open(url, 3);
    const store = createJobStore(handle);
    await store.ensureTenant('acme');
    const key = await store.createApiKey('acme');
    const app = createApp({ store, models: TEST_CATALOG, auth: { runnerTokens: ['rt'] }, log: quietLog });
    const call = (method: string, path: string, body?: unknown) =>
      app.request(path, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
    const before = await call('POST', '/v1/jobs', jobBody(2));
    expect(before.status).toBe(201);
    const jobId = (await before.json()).id;

    // Every other backend of this database terminated: pooled connections die under the gateway.
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    await admin.end();
    const afterKill: number[] = [];
    for (let i = 0; i < 6; i++) afterKill.push((await call('GET', `/v1/jobs/${jobId}`)).status);
    expect(afterKill.every((s) => s === 200 || s === 503)).toBe(true);
    expect(afterKill.at(-1)).toBe(200);

    server!.stop('immediate');
    try {
      const down = await call('POST', '/v1/jobs', jobBody(1));
      expect(down.status).toBe(503);
      expect(down.headers.get('retry-after')).toBe('2');
      const body = await down.json();
      expect(body.error.issues[0].reason).toMatch(/^unreachable/);
      expect((await call('GET', '/healthz')).status).toBe(503);
    } finally {
      await server!.start();
    }
    let status = 0;
    for (let i = 0; i < 20 && status !== 200; i++) {
      status = (await call('GET', `/v1/jobs/${jobId}`)).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(200);
    expect((await call('POST', '/v1/jobs', jobBody(1))).status).toBe(201);
    expect((await call('GET', '/healthz')).status).toBe(200);
  }, 60_000);
});

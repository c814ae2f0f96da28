// Credentials: client keys exist only as SHA-256 digests at rest, digests are compared in constant
// time, and each kind of credential is refused on the other API (runner tokens vs client keys).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../db/ids.js';
import { runnerAuth } from '../../gateway/auth.js';
import { constantTimeEqual, constantTimeIncludes } from '../../gateway/constant-time.js';
import { makeSecurityApp, oneJob, RUNNER_TOKEN } from './security-app.js';

let t: Awaited<ReturnType<typeof makeSecurityApp>>;
beforeAll(async () => {
  t = await makeSecurityApp();
});
afterAll(() => t.close());

describe('API keys at rest', () => {
  it('stores only the SHA-256 of each key: no file of the database holds a plaintext key', async () => {
    const chosen = 'dms_operator_chosen_key_for_this_test_0001';
    await t.store.addApiKey('acme', chosen, 'DMS_API_KEY');
    expect((await t.call('POST', '/v1/jobs', { token: chosen, body: oneJob() })).status).toBe(201);
    t.sqlDb.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    t.sqlDb.sqlite.pragma('wal_checkpoint(PASSIVE)');
    const files = readdirSync(t.dir).filter((f) => f.startsWith('dms.sqlite'));
    const bytes = Buffer.concat(files.map((f) => readFileSync(join(t.dir, f))));
    for (const key of [t.keyA, t.keyB, chosen]) {
      expect(bytes.includes(Buffer.from(key))).toBe(false);
      expect(bytes.includes(Buffer.from(await sha256Hex(key)))).toBe(true);
    }
    const rows = t.sqlDb.sqlite.prepare('SELECT key_hash FROM api_keys').all() as Array<{ key_hash: string }>;
    expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.key_hash))).toBe(true);
  });
});

describe('constant-time comparison', () => {
  it('is a correct equality on strings', () => {
    const a = 'f'.repeat(64);
    expect(constantTimeEqual(a, a)).toBe(true);
    expect(constantTimeEqual(a, `e${a.slice(1)}`)).toBe(false);
    expect(constantTimeEqual(a, `${a.slice(0, 63)}e`)).toBe(false);
    expect(constantTimeEqual(a, a.slice(1))).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
    expect(constantTimeEqual('', 'a')).toBe(false);
    expect(constantTimeIncludes(['x', a, 'y'], a)).toBe(true);
    expect(constantTimeIncludes(['x', 'y'], a)).toBe(false);
  });

  it('reads every character of both inputs in the same order wherever the first difference is (an early exit would not)', () => {
    const n = 64;
    const secret = 'a'.repeat(n);
    const early = `b${'a'.repeat(n - 1)}`;
    const late = `${'a'.repeat(n - 1)}b`;
    const naive = (x: string, y: string) => {
      if (x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) if (x.charCodeAt(i) !== y.charCodeAt(i)) return false;
      return true;
    };
    // The probe counts what a comparison reads, so equal work is shown without a clock.
    const reads = (compare: (x: string, y: string) => boolean, other: string) => {
      const log: string[] = [];
      const probe = (name: string, text: string) =>
        ({
          length: text.length,
          charCodeAt: (i: number) => {
            log.push(`${name}${i}`);
            return text.charCodeAt(i);
          },
        }) as unknown as string;
      expect(compare(probe('s', secret), probe('o', other))).toBe(false);
      return log;
    };
    // The control shows the probe can tell: an early-exit loop reads 2 characters on `early`, 2n on `late`.
    expect(reads(naive, early)).toHaveLength(2);
    expect(reads(naive, late)).toHaveLength(2 * n);
    const onEarly = reads(constantTimeEqual, early);
    expect(onEarly).toHaveLength(2 * n);
    expect(reads(constantTimeEqual, late)).toEqual(onEarly);
  });

  it('compares the runner token as a fixed-length digest, whatever the length of the token presented', async () => {
    const compared: number[] = [];
    // The real digest, recording the length of what reaches the comparison.
    const digest = async (text: string) => {
      const hex = await sha256Hex(text);
      compared.push(hex.length);
      return hex;
    };
    const guarded = new Hono();
    guarded.use('*', runnerAuth(t.store, { runnerTokens: [RUNNER_TOKEN] }, digest));
    guarded.post('/probe', (c) => c.text('ok'));
    const tokens = ['x', RUNNER_TOKEN.slice(0, -1), RUNNER_TOKEN, 'y'.repeat(500)];
    const statuses = [];
    for (const token of tokens) statuses.push((await guarded.request('/probe', { method: 'POST', headers: { authorization: `Bearer ${token}` } })).status);
    expect(statuses).toEqual([401, 401, 200, 401]);
    expect(compared).toEqual([64, 64, 64, 64]);
    expect((await sha256Hex(RUNNER_TOKEN)).length).toBe(64);
  });
});

describe('runner tokens and client keys are separate', () => {
  const clientRoutes: Array<[string, string]> = [
    ['POST', '/v1/jobs'],
    ['GET', '/v1/jobs'],
    ['GET', '/v1/jobs/job_x'],
    ['GET', '/v1/jobs/job_x/results'],
    ['POST', '/v1/jobs/job_x/cancel'],
    ['GET', '/v1/models'],
    ['GET', '/v1/files'],
    ['POST', '/v1/batches'],
    ['GET', '/v1/batches'],
  ];
  const runnerRoutes = ['/v1/runner/claim', ...['heartbeat', 'results', 'complete', 'fail', 'release'].map((v) => `/v1/runner/jobs/job_x/${v}`)];

  it('refuses the runner token on every client route (401) and stores nothing', async () => {
    const before = t.countJobs();
    for (const [method, route] of clientRoutes) {
      const res = await t.call(method, route, { token: RUNNER_TOKEN, body: method === 'POST' ? oneJob() : undefined });
      expect(res.status, `${method} ${route}`).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    }
    expect(t.countJobs()).toBe(before);
  });

  it('refuses client keys on every runner route (403) and unknown tokens on both (401)', async () => {
    await t.call('POST', '/v1/jobs', { body: oneJob() });
    for (const route of runnerRoutes) {
      expect((await t.call('POST', route, { token: t.keyA, body: { runner_id: 'x', lease_token: 'l' } })).status, route).toBe(403);
      expect((await t.call('POST', route, { token: 'not-a-token', body: { runner_id: 'x' } })).status, route).toBe(401);
      expect((await t.call('POST', route, { token: null, body: { runner_id: 'x' } })).status, route).toBe(401);
    }
    // A client key never claimed anything: the queued job is still queued.
    expect((t.sqlDb.sqlite.prepare("SELECT count(*) AS n FROM jobs WHERE status != 'queued'").get() as { n: number }).n).toBe(0);
    // The real runner token does work there.
    expect((await t.call('POST', '/v1/runner/claim', { token: RUNNER_TOKEN, body: { runner_id: 'r' } })).status).toBe(200);
  });

  it('refuses over-long and malformed bearer values without looking them up', async () => {
    for (const value of [`Bearer ${'x'.repeat(10_000)}`, 'Basic abc', 'Bearer', `Bearer ${t.keyA} extra`]) {
      const res = await t.app.request('/v1/jobs', { headers: { authorization: value } });
      expect(res.status, value.slice(0, 20)).toBe(401);
    }
  });
});

// Logs by default carry neither secrets (API keys, runner tokens, lease tokens) nor prompt text:
// error summaries drop Drizzle's statement parameters, and the Node gateway's whole output is
// checked after a session that submits, fails validation, claims, writes results and hits a lock.
import Database from 'better-sqlite3';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, GatewayProcess, writeCatalogModels } from '../../bench/reliability/gateway-process.js';
import { describeError, redactSecrets } from '../../gateway/log.js';
import { makeSecurityApp, oneJob } from './security-app.js';

const PROMPT = 'Q:SECRET-PROMPT-7f3a9c+1=';

describe('error summaries', () => {
  it('withhold statement parameters unless verbose (which is what would leak a prompt)', () => {
    const cause = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL', name: 'SqliteError' });
    const error = new DrizzleQueryError('insert into "requests" ("prompt") values (?)', [PROMPT, 'dms_abcdefghijklmnop'], cause);
    const quiet = describeError(error);
    expect(quiet).not.toContain('SECRET-PROMPT');
    expect(quiet).not.toContain('dms_abcdefghijklmnop');
    expect(quiet).toContain('SQLITE_FULL');
    expect(describeError(error, true)).toContain('SECRET-PROMPT');
  });

  it('mask bearer credentials, API keys and lease tokens in any line', () => {
    const line = redactSecrets('auth Bearer abc.def header, key dms_Q3MogBRiBJfTykvuLd6 lease lease_0123456789abcdef0123');
    expect(line).not.toMatch(/abc\.def|Q3MogBRiBJ|0123456789abcdef0123/);
  });

  it('an unexpected store failure is logged without the prompt or the key (test double: a store that throws)', async () => {
    const t = await makeSecurityApp();
    // A fake failure standing in for a driver error that carries the statement's parameters.
    t.store.submit = async () => {
      throw new DrizzleQueryError('insert into "requests" values (?, ?)', [PROMPT, t.keyA], new Error('constraint failed'));
    };
    const res = await t.call('POST', '/v1/jobs', { body: oneJob(PROMPT) });
    expect(res.status).toBe(500);
    expect(t.logs.length).toBe(1);
    expect(t.logs[0]).toContain('unhandled error');
    expect(t.logs.join('\n')).not.toContain('SECRET-PROMPT');
    expect(t.logs.join('\n')).not.toContain(t.keyA);
    t.close();
  });
});

describe('the Node gateway output', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dms-logs-'));
  const apiKey = 'dms_log_test_key_0f9e8d7c6b5a';
  const runnerToken = 'runner_log_test_token_1a2b3c4d';
  let gateway: GatewayProcess | null = null;
  afterAll(async () => {
    await gateway?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds no key, token, lease token or prompt after a busy session', async () => {
    writeCatalogModels(join(dir, 'models'));
    gateway = new GatewayProcess({
      dataDir: join(dir, 'data'),
      modelsDir: join(dir, 'models'),
      port: await freePort(),
      apiKey,
      runnerToken,
      env: { DMS_SQLITE_BUSY_TIMEOUT_MS: '100', DMS_RATE_LIMIT_RPS: '5', DMS_RATE_LIMIT_BURST: '10' },
    });
    await gateway.start();
    const url = gateway.url;
    const post = (path: string, body: unknown, token = apiKey) =>
      fetch(`${url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

    expect((await post('/v1/jobs', oneJob(PROMPT))).status).toBe(201);
    expect((await post('/v1/jobs', oneJob(PROMPT.repeat(100)))).status).toBe(400); // over the context
    expect((await post('/v1/jobs', oneJob(PROMPT), `${apiKey}x`)).status).toBe(401);
    expect((await post('/v1/runner/claim', { runner_id: 'r' }, apiKey)).status).toBe(403);
    const claim = await post('/v1/runner/claim', { runner_id: 'r' }, runnerToken);
    const { job, lease } = (await claim.json()) as { job: { id: string }; lease: { lease_token: string } };
    const result = { custom_id: 'a', status: 'failed', answer: PROMPT, threads: [], usage: null, timings: null, error: { code: 'x', message: PROMPT } };
    expect((await post(`/v1/runner/jobs/${job.id}/results`, { lease_token: lease.lease_token, results: [result] }, runnerToken)).status).toBe(200);
    expect((await post(`/v1/runner/jobs/${job.id}/fail`, { lease_token: lease.lease_token, reason: PROMPT }, runnerToken)).status).toBe(200);

    // A locked database: the 503 is logged (kind and path), the prompt of the refused job is not.
    const other = new Database(join(dir, 'data/dms.sqlite'));
    other.exec('BEGIN IMMEDIATE');
    expect((await post('/v1/jobs', oneJob(PROMPT))).status).toBe(503);
    other.exec('ROLLBACK');
    other.close();
    let limited = 0;
    for (let i = 0; i < 15; i++) if ((await post('/v1/jobs', oneJob(PROMPT))).status === 429) limited++;
    expect(limited).toBeGreaterThan(0);
    await gateway.stop();

    const output = gateway.output;
    expect(output).toContain('storage unavailable');
    for (const secret of [apiKey, runnerToken, lease.lease_token, 'SECRET-PROMPT']) expect(output).not.toContain(secret);
  });
});

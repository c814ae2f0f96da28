// Test helper (not a test): the gateway app on a real, migrated SQLite (a temp file, so tests can
// read the bytes at rest), two tenants with keys, a runner token, and injectable limits, clock, log.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBetterSqlite } from '../../db/better-sqlite-db.js';
import { createJobStore } from '../../db/job-store.js';
import { createApp } from '../../gateway/app.js';
import type { Limits } from '../../gateway/limits.js';
import { createLogger } from '../../gateway/log.js';
import type { ModelCatalog } from '../../protocol/index.js';

export const RUNNER_TOKEN = 'runner-secret-token-0123456789';

/** One model with a long context, so body-size tests are not refused for the prompt length first. */
export const SECURITY_CATALOG: ModelCatalog = {
  defaultModel: 'reasoner',
  models: [{ name: 'reasoner', contextLength: 1 << 20, methods: ['none', 'window', 'tova', 'h2o', 'quest', 'dms'], dmsRatios: [2, 4] }],
};

export type SecurityAppOptions = { limits?: Partial<Limits>; rateClock?: () => number; verboseLog?: boolean };

export async function makeSecurityApp(options: SecurityAppOptions = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'dms-security-'));
  const path = join(dir, 'dms.sqlite');
  const sqlDb = openBetterSqlite(path, { busyTimeoutMs: 50 });
  const store = createJobStore(sqlDb);
  await store.ensureTenant('acme');
  await store.ensureTenant('globex');
  const keyA = await store.createApiKey('acme');
  const keyB = await store.createApiKey('globex');
  const logs: string[] = [];
  const log = createLogger({ verbose: options.verboseLog ?? false, write: (level, line) => void logs.push(`${level} ${line}`) });
  const app = createApp({
    store,
    models: SECURITY_CATALOG,
    auth: { runnerTokens: [RUNNER_TOKEN] },
    limits: { rateLimitPerSecond: 0, ...options.limits },
    rateClock: options.rateClock,
    log,
  });

  async function call(method: string, route: string, opts: { token?: string | null; body?: unknown; raw?: BodyInit; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { ...opts.headers };
    const token = opts.token === undefined ? keyA : opts.token;
    if (token) headers.authorization = `Bearer ${token}`;
    let body = opts.raw;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
    }
    const init: RequestInit & { duplex?: string } = { method, headers, body };
    if (body instanceof ReadableStream) init.duplex = 'half';
    return app.request(route, init);
  }

  const close = () => {
    sqlDb.close();
    rmSync(dir, { recursive: true, force: true });
  };
  const countJobs = () => (sqlDb.sqlite.prepare('SELECT count(*) AS n FROM jobs').get() as { n: number }).n;
  return { app, store, sqlDb, path, dir, keyA, keyB, logs, call, countJobs, close };
}

export const oneJob = (prompt = 'Q:1+1=') => ({ requests: [{ custom_id: 'a', prompt, params: { max_tokens: 16 } }] });

// Test harness: a gateway app on a real, migrated SQLite (:memory: or a file), two tenants with
// keys, a runner token, a test catalog, a controllable clock, and helpers to call the API.
import { openBetterSqlite, type BetterSqliteDb } from '../../db/better-sqlite-db.js';
import { createJobStore, type JobStore } from '../../db/job-store.js';
import type { StoreConfig } from '../../db/store-config.js';
import { createApp } from '../../gateway/app.js';
import type { Limits } from '../../gateway/limits.js';
import type { ModelCatalog, RequestResultWrite, RunnerCapability } from '../../protocol/index.js';

export const RUNNER_TOKEN = 'runner-secret-token';

export const TEST_CATALOG: ModelCatalog = {
  defaultModel: 'reasoner',
  models: [
    { name: 'reasoner', contextLength: 512, methods: ['none', 'window', 'tova', 'h2o', 'quest', 'dms'], dmsRatios: [2, 4, 8] },
    { name: 'tiny', contextLength: 64, methods: ['none', 'window', 'tova', 'h2o', 'quest'], dmsRatios: [] },
  ],
};

export type HarnessOptions = {
  path?: string;
  limits?: Partial<Limits>;
  store?: Partial<StoreConfig>;
  catalog?: ModelCatalog;
  /** AppDeps.fleet: the gateway's only runner's capability (absent: remote runners may come). */
  fleet?: RunnerCapability;
};

export type Harness = Awaited<ReturnType<typeof makeHarness>>;

export async function makeHarness(options: HarnessOptions = {}) {
  const sqlDb: BetterSqliteDb = openBetterSqlite(options.path ?? ':memory:');
  let now = Date.parse('2026-01-01T00:00:00Z');
  const clock = () => now;
  const store: JobStore = createJobStore(sqlDb, { clock, ...options.store });
  await store.ensureTenant('acme');
  await store.ensureTenant('globex');
  const keyA = await store.createApiKey('acme');
  const keyB = await store.createApiKey('globex');
  const app = createApp({
    store,
    models: options.catalog ?? TEST_CATALOG,
    auth: { runnerTokens: [RUNNER_TOKEN] },
    clock,
    limits: options.limits,
    fleet: options.fleet,
  });

  async function call(method: string, path: string, opts: { token?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { ...opts.headers };
    const token = opts.token === undefined ? keyA : opts.token;
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | undefined = opts.raw;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
    }
    return app.request(path, { method, headers, body });
  }

  return {
    app,
    store,
    sqlDb,
    keyA,
    keyB,
    call,
    advance: (ms: number) => {
      now += ms;
    },
    now: clock,
    /** POST /v1/jobs as tenant A (or `token`), returning status and parsed body. */
    async submit(body: unknown, opts: { token?: string; headers?: Record<string, string> } = {}) {
      const res = await call('POST', '/v1/jobs', { body, token: opts.token, headers: opts.headers });
      return { status: res.status, body: await res.json(), headers: res.headers };
    },
    async getJob(id: string, token?: string) {
      const res = await call('GET', `/v1/jobs/${id}`, { token });
      return { status: res.status, body: await res.json() };
    },
    async results(id: string, token?: string) {
      const res = await call('GET', `/v1/jobs/${id}/results`, { token });
      const text = await res.text();
      return {
        status: res.status,
        text,
        lines:
          res.status === 200
            ? text
                .split('\n')
                .filter(Boolean)
                .map((l) => JSON.parse(l))
            : [],
      };
    },
    /** POST to the runner API with the runner token. */
    async runner(path: string, body: unknown, token: string = RUNNER_TOKEN) {
      const res = await call('POST', `/v1/runner${path}`, { body, token });
      return { status: res.status, body: res.status === 204 ? null : await res.json() };
    },
    /** Moves a job's lease expiry into the past, as if its runner had stopped heartbeating. */
    backdateLease(jobId: string, byMs = 10 * 60_000) {
      sqlDb.sqlite.prepare('UPDATE jobs SET lease_expires_at = lease_expires_at - ? WHERE id = ?').run(byMs, jobId);
    },
    close: () => sqlDb.close(),
  };
}

/** A well-formed succeeded result as a runner would write it. */
export function okResult(customId: string, answer = '42', runnerSeconds = 1.8): RequestResultWrite {
  return {
    custom_id: customId,
    status: 'succeeded',
    answer,
    threads: [
      { text: `work... A:${answer}`, answer, finish_reason: 'stop', completion_tokens: 10 },
      { text: `work... A:${answer}`, answer, finish_reason: 'stop', completion_tokens: 12 },
    ],
    usage: {
      prompt_tokens: 7,
      completion_tokens: 22,
      kv_token_reads: 1000,
      kv_token_reads_per_head: 125,
      prefill_kv_token_reads: 49,
      peak_kv_tokens: 160,
      peak_kv_tokens_per_head: 20,
      peak_kv_bytes: 40960,
      achieved_ratio: 3.5,
      runner_seconds: runnerSeconds,
    },
    timings: { ttft_ms: 5, prefill_ms: 4, decode_ms: 90, total_ms: 100 },
    backend: 'wasm',
    error: null,
  };
}

/** A submission body with `n` requests r0..r{n-1}. */
export function jobBody(n: number, extra: Record<string, unknown> = {}) {
  return { requests: Array.from({ length: n }, (_, i) => ({ custom_id: `r${i}`, prompt: `Q:${i}+1=` })), ...extra };
}

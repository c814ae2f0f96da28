// Property-based fuzzing of every endpoint (client, OpenAI-compatible, runner, health) through the
// real app on a real SQLite file: random and adversarial bodies, headers, huge and deeply nested
// JSON, invalid UTF-8, prompts over the context. No answer may be a 5xx; the store stays intact.
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { integrityCheck, openBetterSqlite } from '../../db/better-sqlite-db.js';
import { createJobStore } from '../../db/job-store.js';
import { createApp } from '../../gateway/app.js';
import type { ModelCatalog } from '../../protocol/index.js';
import { adversarialRequest, type FuzzRequest, type FuzzWorld } from './fuzz-arbitraries.js';

export interface FuzzConfig {
  /** fast-check runs (one HTTP request each). */
  numRuns: number;
  seed: number;
  /** Body limit of the fuzzed app (small, so that over-limit bodies stay cheap to generate). */
  maxBodyBytes: number;
}

export const DEFAULT_FUZZ_CONFIG: FuzzConfig = { numRuns: 3000, seed: 20260101, maxBodyBytes: 256 * 1024 };

export interface FuzzReport {
  requests: number;
  server_errors: number;
  /** Status counts, e.g. {"400": 812, "401": 95, ...}. */
  statuses: Record<string, number>;
  /** The first few requests that got a 5xx (method, path, status), for the report. */
  examples: Array<{ method: string; path: string; status: number; body: string }>;
  integrity_ok: boolean;
  /** A valid submission still answers 201 after the run. */
  healthy_after: boolean;
  seed: number;
}

const CONTEXT = 512;
const CATALOG: ModelCatalog = {
  defaultModel: 'reasoner',
  models: [{ name: 'reasoner', contextLength: CONTEXT, methods: ['none', 'window', 'tova', 'h2o', 'quest', 'dms'], dmsRatios: [2, 4] }],
};

/** Builds the app on a temp file with two tenants, a runner token, and a few jobs (one claimed). */
async function makeWorld(config: FuzzConfig) {
  const dir = mkdtempSync(join(tmpdir(), 'dms-fuzz-'));
  const sqlDb = openBetterSqlite(join(dir, 'fuzz.sqlite'), { busyTimeoutMs: 100 });
  const store = createJobStore(sqlDb);
  await store.ensureTenant('acme');
  await store.ensureTenant('globex');
  const keyA = await store.createApiKey('acme');
  const keyB = await store.createApiKey('globex');
  const runnerToken = 'fuzz-runner-token';
  const silent = { verbose: false, info() {}, warn() {}, error() {} };
  const app = createApp({
    store,
    models: CATALOG,
    auth: { runnerTokens: [runnerToken] },
    limits: { maxBodyBytes: config.maxBodyBytes, rateLimitPerSecond: 0 },
    log: silent,
  });
  const submit = async () => {
    const res = await app.request('/v1/jobs', {
      method: 'POST',
      headers: { authorization: `Bearer ${keyA}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        requests: [
          { custom_id: 'a', prompt: 'Q:1+1=' },
          { custom_id: 'b', prompt: 'Q:2+2=' },
        ],
        defaults: { max_tokens: 32 },
      }),
    });
    return { status: res.status, id: ((await res.json()) as { id?: string }).id ?? '' };
  };
  const cleanup = () => {
    sqlDb.close();
    rmSync(dir, { recursive: true, force: true });
  };
  const jobIds = [(await submit()).id, (await submit()).id];
  if (!jobIds.every(Boolean)) {
    cleanup();
    throw new Error('fuzz setup: a valid submission was refused');
  }
  const claim = await store.claim({ runnerId: 'fuzz' });
  const world: FuzzWorld = { keys: [keyA, keyB], runnerToken, jobIds, leaseTokens: claim ? [claim.lease.lease_token] : [], contextLength: CONTEXT };
  return { app, sqlDb, world, submit, cleanup };
}

/** Sends one generated request and fully reads the answer (NDJSON streams included). */
async function send(app: ReturnType<typeof createApp>, req: FuzzRequest): Promise<{ status: number; body: string }> {
  const res = await app.request(req.path, { method: req.method, headers: req.headers, body: req.body as BodyInit | undefined });
  return { status: res.status, body: await res.text() };
}

/**
 * Runs the property. `mode: 'assert'` fails on the first 5xx with a shrunk counterexample (tests);
 * `mode: 'count'` never stops and counts every 5xx (the benchmark).
 */
export async function runFuzz(config: FuzzConfig = DEFAULT_FUZZ_CONFIG, mode: 'assert' | 'count' = 'count'): Promise<FuzzReport> {
  const { app, sqlDb, world, submit, cleanup } = await makeWorld(config);
  const statuses: Record<string, number> = {};
  const examples: FuzzReport['examples'] = [];
  let requests = 0;
  let serverErrors = 0;
  try {
    await fc.assert(
      fc.asyncProperty(adversarialRequest(world, config.maxBodyBytes), async (req) => {
        const { status, body } = await send(app, req);
        requests++;
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (status >= 500) {
          serverErrors++;
          if (examples.length < 5) examples.push({ method: req.method, path: req.path.slice(0, 200), status, body: body.slice(0, 300) });
          return mode === 'count';
        }
        return true;
      }),
      { numRuns: config.numRuns, seed: config.seed, endOnFailure: true },
    );
    const after = await submit();
    return {
      requests,
      server_errors: serverErrors,
      statuses,
      examples,
      integrity_ok: integrityCheck(sqlDb.sqlite).ok,
      healthy_after: after.status === 201,
      seed: config.seed,
    };
  } finally {
    cleanup();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const numRuns = Number(process.argv[2] ?? DEFAULT_FUZZ_CONFIG.numRuns);
  runFuzz({ ...DEFAULT_FUZZ_CONFIG, numRuns }).then((r) => console.log(JSON.stringify(r, null, 2)));
}

// The gateway on Cloudflare Workers, offline: the bundle holds no TensorFlow.js or better-sqlite3;
// `wrangler d1 migrations apply --local` + `wrangler dev` serve the API over D1, a remote runner
// (HTTP protocol, real engine on tiny random weights) completes jobs, and the cron handler sweeps leases.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModelCatalog } from '../../gateway/model-catalog.js';
import { EngineExecutor } from '../../gpu-runner/engine-executor.js';
import { HttpJobSource } from '../../gpu-runner/http-source.js';
import { ModelRegistry } from '../../gpu-runner/model-registry.js';
import { RunnerLoop } from '../../gpu-runner/runner-loop.js';
import { parsePrometheusText, sampleValue } from '../metrics/prom-text.js';
import { withGatewayProcess } from '../runner-processes/gateway-process.js';
import { BIN, runToEnd, startService } from '../runner-processes/processes.js';

const KEY = 'dms_worker_test_key_0123456789';
const RUNNER_TOKEN = 'worker-test-runner-token';
const METRICS_TOKEN = 'worker-test-metrics-token';
const LEASE_SECONDS = 3;
let catalog = '';
const g = withGatewayProcess({
  prefix: 'dms-worker-',
  key: KEY,
  prepare: async ({ dir, modelsDir }) => {
    catalog = JSON.stringify(await loadModelCatalog(modelsDir));
    const migrate = await runToEnd(BIN('wrangler'), ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', join(dir, 'state')], { timeoutMs: 90_000 });
    expect(migrate.code, migrate.output).toBe(0);
    expect(migrate.output).toMatch(/0001_openai_batches\.sql/);
  },
  start: ({ dir, port }) =>
    startService(BIN('wrangler'), [
      'dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--persist-to',
      join(dir, 'state'),
      '--show-interactive-dev-session=false',
      '--var',
      `DMS_MODELS:${catalog}`,
      '--var',
      `DMS_API_KEY:${KEY}`,
      '--var',
      `DMS_RUNNER_TOKEN:${RUNNER_TOKEN}`,
      '--var',
      `DMS_LEASE_SECONDS:${LEASE_SECONDS}`,
      '--var',
      `DMS_METRICS_TOKEN:${METRICS_TOKEN}`,
    ]),
  ready: /Ready on http/,
  readyTimeoutMs: 90_000,
  setupTimeoutMs: 180_000,
});
const api = g.api;
const dir = g.dir;

async function runner(id: string) {
  const executor = await EngineExecutor.create(new ModelRegistry(g.modelsDir));
  return new RunnerLoop(new HttpJobSource({ baseUrl: g.base, token: RUNNER_TOKEN }), executor, { runnerId: id, heartbeatMs: 500, log: () => {} });
}

describe('Worker bundle', () => {
  it('holds the gateway without TensorFlow.js, better-sqlite3 or Node built-ins', async () => {
    const out = join(dir, 'bundle');
    const build = await runToEnd(BIN('wrangler'), ['deploy', '--dry-run', '--outdir', out], { timeoutMs: 90_000 });
    expect(build.code, build.output).toBe(0);
    const code = readFileSync(join(out, 'worker.js'), 'utf8');
    const sources: string[] = JSON.parse(readFileSync(join(out, 'worker.js.map'), 'utf8')).sources;
    expect(sources.some((s) => s.includes('gateway/app.ts'))).toBe(true);
    expect(sources.some((s) => s.includes('db/d1-db.ts'))).toBe(true);
    for (const banned of ['tensorflow', 'tfjs', 'better-sqlite3', 'engine/', 'gpu-runner/', 'model-catalog.ts', 'prom-client']) {
      expect(sources.filter((s) => s.includes(banned))).toEqual([]);
    }
    expect(code).not.toMatch(/@tensorflow|better-sqlite3|from\s*["']node:/);
  });
});

describe('wrangler dev (D1)', () => {
  it('runs the job API lifecycle with a remote runner completing a real job', async () => {
    expect((await api('GET', '/healthz')).body).toMatchObject({ status: 'ok', models: ['tiny'] });
    expect((await api('GET', '/v1/jobs', undefined, 'wrong-key')).status).toBe(401);
    const body = {
      model: 'tiny',
      requests: [
        { custom_id: 'plain', prompt: 'C1:a3b7=', params: { max_tokens: 12, temperature: 0, n: 2 } },
        { custom_id: 'dms', prompt: 'C1:a3b7=', params: { max_tokens: 12, temperature: 0, compression: { method: 'dms', ratio: 4 } } },
      ],
    };
    const submitted = await fetch(`${g.base}/v1/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'idempotency-key': 'worker-1' },
      body: JSON.stringify(body),
    });
    expect(submitted.status).toBe(201);
    const job = await submitted.json();
    const replay = await fetch(`${g.base}/v1/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'idempotency-key': 'worker-1' },
      body: JSON.stringify(body),
    });
    expect((await replay.json()).id).toBe(job.id);

    const loop = await runner('worker-runner');
    expect(await loop.runOnce()).toBe('completed');
    const done = (await api('GET', `/v1/jobs/${job.id}`)).body;
    expect(done).toMatchObject({ status: 'completed', request_counts: { total: 2, succeeded: 2 }, attempt: 1 });
    expect(done.usage.prompt_tokens).toBe(18);
    expect(done.usage.kv_token_reads).toBeGreaterThan(0);
    const lines = (await api('GET', `/v1/jobs/${job.id}/results`)).text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.custom_id, l.status, l.threads.length])).toEqual([
      ['plain', 'succeeded', 2],
      ['dms', 'succeeded', 1],
    ]);
    expect(lines[1].usage.achieved_ratio).toBeGreaterThanOrEqual(1);
    const health = (await api('GET', '/healthz')).body;
    expect(health.runners).toContainEqual(expect.objectContaining({ runner_id: 'worker-runner', backend: expect.any(String) }));

    const queued = (await api('POST', '/v1/jobs', { model: 'tiny', requests: [{ custom_id: 'x', prompt: 'Q:1=' }] })).body;
    expect((await api('POST', `/v1/jobs/${queued.id}/cancel`)).body).toMatchObject({ status: 'canceled', request_counts: { canceled: 1 } });
    const invalid = await api('POST', '/v1/jobs', {
      model: 'tiny',
      requests: [{ custom_id: 'y', prompt: 'Q', params: { compression: { method: 'dms', ratio: 3 } } }],
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.field).toBe('requests[0].params.compression.ratio');
  });

  it('runs an OpenAI batch with a multi-chunk input file on D1', async () => {
    const pad = 'x'.repeat(400);
    const lines = Array.from({ length: 800 }, (_, i) => ({
      custom_id: `r${i}`,
      method: 'POST',
      url: '/v1/completions',
      body: { model: 'tiny', prompt: i < 2 ? `C1:a${i}b7=` : `${pad}${i}`, max_tokens: 4, temperature: 0 },
    }));
    const text = `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`;
    const form = new FormData();
    form.set('purpose', 'batch');
    form.set('file', new File([text], 'big.jsonl'));
    const uploaded = await (await fetch(`${g.base}/v1/files`, { method: 'POST', body: form, headers: { authorization: `Bearer ${KEY}` } })).json();
    expect(uploaded.bytes).toBe(Buffer.byteLength(text));
    expect(uploaded.bytes).toBeGreaterThan(256 * 1024); // two stored chunks
    expect((await api('GET', `/v1/files/${uploaded.id}/content`)).text).toBe(text);

    // The whole file is validated into one job; a smaller one is then run by the engine.
    const big = (await api('POST', '/v1/batches', { input_file_id: uploaded.id, endpoint: '/v1/completions', completion_window: '24h' })).body;
    expect(big).toMatchObject({ status: 'in_progress', request_counts: { total: 800 } });
    expect((await api('POST', `/v1/batches/${big.id}/cancel`)).body.status).toBe('cancelled');

    const small = new FormData();
    small.set('purpose', 'batch');
    small.set(
      'file',
      new File(
        [
          lines
            .slice(0, 2)
            .map((l) => JSON.stringify(l))
            .join('\n'),
        ],
        'small.jsonl',
      ),
    );
    const file = await (await fetch(`${g.base}/v1/files`, { method: 'POST', body: small, headers: { authorization: `Bearer ${KEY}` } })).json();
    const batch = (await api('POST', '/v1/batches', { input_file_id: file.id, endpoint: '/v1/completions', completion_window: '24h' })).body;
    expect(await (await runner('worker-batch-runner')).runOnce()).toBe('completed');
    const done = (await api('GET', `/v1/batches/${batch.id}`)).body;
    expect(done).toMatchObject({ status: 'completed', request_counts: { total: 2, completed: 2, failed: 0 } });
    const out = (await api('GET', `/v1/files/${done.output_file_id}/content`)).text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(out.map((l) => [l.custom_id, l.response.status_code, l.response.body.object])).toEqual([
      ['r0', 200, 'text_completion'],
      ['r1', 200, 'text_completion'],
    ]);
  });

  it('serves the console and /metrics (runtime-free registry, token only) from the Worker', async () => {
    const index = await fetch(`${g.base}/ui/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    const js = /src="\/ui\/(assets\/[^"]+\.js)"/.exec(await index.text())![1];
    expect((await fetch(`${g.base}/ui/${js}`)).headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await fetch(`${g.base}/metrics`)).status).toBe(401);
    const res = await fetch(`${g.base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    const metrics = parsePrometheusText(await res.text());
    expect(sampleValue(metrics, 'dms_jobs', { status: 'completed' })).toBeGreaterThanOrEqual(1);
    expect(metrics.get('dms_achieved_ratio')?.type).toBe('histogram');
    expect(metrics.get('dms_http_requests_total')?.type).toBe('counter');
    expect(metrics.has('dms_lease_claims_total')).toBe(true);
  });

  it('sweeps an abandoned lease from the cron handler', async () => {
    const job = (await api('POST', '/v1/jobs', { model: 'tiny', requests: [{ custom_id: 'z', prompt: 'Q:3=' }] })).body;
    const claim = await api('POST', '/v1/runner/claim', { runner_id: 'vanishes' }, RUNNER_TOKEN);
    expect(claim.body.job.id).toBe(job.id);
    await new Promise((r) => setTimeout(r, LEASE_SECONDS * 1000 + 300));
    const cron = await fetch(`${g.base}/cdn-cgi/handler/scheduled`);
    expect(cron.status).toBe(200);
    await cron.text();
    expect((await api('GET', `/v1/jobs/${job.id}`)).body).toMatchObject({ status: 'queued', attempt: 1 });
    const stale = await api('POST', `/v1/runner/jobs/${job.id}/heartbeat`, { lease_token: claim.body.lease.lease_token }, RUNNER_TOKEN);
    expect(stale.status).toBe(409);
  });
});

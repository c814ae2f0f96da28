// The gateway under Deno (the `deno` npm package, node:sqlite): API lifecycle with a remote runner
// completing a real job, an OpenAI batch, lease sweeping, and data kept across a SIGTERM restart.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EngineExecutor } from '../../gpu-runner/engine-executor.js';
import { HttpJobSource } from '../../gpu-runner/http-source.js';
import { ModelRegistry } from '../../gpu-runner/model-registry.js';
import { RunnerLoop } from '../../gpu-runner/runner-loop.js';
import { parsePrometheusText, sampleValue } from '../metrics/prom-text.js';
import { withGatewayProcess } from '../runner-processes/gateway-process.js';
import { BIN, startService } from '../runner-processes/processes.js';

const KEY = 'dms_deno_test_key_0123456789';
const RUNNER_TOKEN = 'deno-test-runner-token';
const g = withGatewayProcess({
  prefix: 'dms-deno-',
  key: KEY,
  start: ({ dir, modelsDir, port }) =>
    startService(
      BIN('deno'),
      ['run', '--allow-net', '--allow-read', '--allow-write', '--allow-env', '--node-modules-dir=manual', '--unstable-sloppy-imports', 'gateway/deno.ts'],
      {
        env: {
          PORT: String(port),
          HOST: '127.0.0.1',
          DMS_DATA_DIR: join(dir, 'data'),
          DMS_MODELS_DIR: modelsDir,
          DMS_API_KEY: KEY,
          DMS_RUNNER_TOKEN: RUNNER_TOKEN,
          DMS_LEASE_SECONDS: '2',
        },
      },
    ),
  ready: /listening on http/,
});
const api = g.api;

describe('gateway/deno.ts', () => {
  it('runs a job end to end with a remote engine runner, an OpenAI batch, and survives a restart', async () => {
    expect(g.service.output()).toMatch(/\(Deno\) listening/);
    expect((await api('GET', '/healthz')).body).toMatchObject({ status: 'ok', models: ['tiny'] });
    const job = (
      await api('POST', '/v1/jobs', {
        model: 'tiny',
        requests: [
          { custom_id: 'a', prompt: 'C1:a3b7=', params: { max_tokens: 10, temperature: 0, n: 2 } },
          { custom_id: 'b', prompt: 'C1:a3b7=', params: { max_tokens: 10, temperature: 0, compression: { method: 'tova', ratio: 2 } } },
        ],
      })
    ).body;
    expect(job.status).toBe('queued');

    const executor = await EngineExecutor.create(new ModelRegistry(g.modelsDir));
    const runner = new RunnerLoop(new HttpJobSource({ baseUrl: g.base, token: RUNNER_TOKEN }), executor, {
      runnerId: 'deno-runner',
      heartbeatMs: 400,
      log: () => {},
    });
    expect(await runner.runOnce()).toBe('completed');
    const done = (await api('GET', `/v1/jobs/${job.id}`)).body;
    expect(done).toMatchObject({ status: 'completed', request_counts: { succeeded: 2 } });
    expect(done.usage.prompt_tokens).toBe(18);
    const lines = (await api('GET', `/v1/jobs/${job.id}/results`)).text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.custom_id, l.threads.length])).toEqual([
      ['a', 2],
      ['b', 1],
    ]);

    // OpenAI batch: upload (multipart), create, run, output file.
    const form = new FormData();
    form.set('purpose', 'batch');
    form.set(
      'file',
      new File(
        [
          `${JSON.stringify({
            custom_id: 'o1',
            method: 'POST',
            url: '/v1/chat/completions',
            body: { model: 'tiny', messages: [{ role: 'user', content: 'Q:1=' }], max_tokens: 4 },
          })}\n`,
        ],
        'in.jsonl',
      ),
    );
    const file = await (await fetch(`${g.base}/v1/files`, { method: 'POST', body: form, headers: { authorization: `Bearer ${KEY}` } })).json();
    const batch = (await api('POST', '/v1/batches', { input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })).body;
    expect(batch.status).toBe('in_progress');
    expect(await runner.runOnce()).toBe('completed');
    const finished = (await api('GET', `/v1/batches/${batch.id}`)).body;
    expect(finished).toMatchObject({ status: 'completed', request_counts: { total: 1, completed: 1 } });
    const out = JSON.parse((await api('GET', `/v1/files/${finished.output_file_id}/content`)).text);
    expect(out.response.body.object).toBe('chat.completion');

    // An abandoned lease (2 s) is swept back to the queue by the next claim.
    const lost = (await api('POST', '/v1/jobs', { model: 'tiny', requests: [{ custom_id: 'z', prompt: 'Q:2=' }] })).body;
    expect((await api('POST', '/v1/runner/claim', { runner_id: 'vanishes' }, RUNNER_TOKEN)).body.job.id).toBe(lost.id);
    await new Promise((r) => setTimeout(r, 2300));
    expect((await api('POST', '/v1/runner/claim', { runner_id: 'probe' }, RUNNER_TOKEN)).status).toBe(204); // requeued with backoff
    expect((await api('GET', `/v1/jobs/${lost.id}`)).body).toMatchObject({ status: 'queued', attempt: 1 });

    // The console and /metrics: no DMS_METRICS_TOKEN, so loopback peers (Deno's remoteAddr) may scrape.
    const index = await fetch(`${g.base}/ui/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    await index.text();
    const scraped = await fetch(`${g.base}/metrics`);
    expect(scraped.status).toBe(200);
    const metrics = parsePrometheusText(await scraped.text());
    expect(sampleValue(metrics, 'dms_jobs', { status: 'completed' })).toBe(2); // the job and the OpenAI batch's job
    expect(sampleValue(metrics, 'dms_lease_claims_total')).toBeGreaterThanOrEqual(3);
    expect(sampleValue(metrics, 'dms_lease_expiries_total', { outcome: 'requeued' })).toBe(1);
    expect((await fetch(`${g.base}/metrics`, { headers: { 'x-forwarded-for': '198.51.100.1' } })).status).toBe(403);

    expect(await g.restart('SIGTERM')).toBe(0);
    expect((await api('GET', `/v1/jobs/${job.id}`)).body.status).toBe('completed');
    expect((await api('GET', `/v1/batches/${batch.id}`)).body.output_file_id).toBe(finished.output_file_id);
  });
});

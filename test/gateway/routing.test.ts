// Routing by backend: a gateway whose only runner is its in-process one (fleet known) refuses at
// submission what that backend cannot serve, naming the field; with remote runners the job is
// accepted and only a runner whose backend serves it claims it (by `methods`, or by `backend`).
import { afterEach, describe, expect, it } from 'vitest';
import type { ClaimedJob, PendingRequest, RunnerCapability } from '../../protocol/index.js';
import { capabilityOf } from '../../protocol/index.js';
import type { ExecutionContext, Executor } from '../../gpu-runner/executor.js';
import { HttpJobSource } from '../../gpu-runner/http-source.js';
import { RunnerLoop } from '../../gpu-runner/runner-loop.js';
import { type Harness, makeHarness, okResult, RUNNER_TOKEN } from './harness.js';

const TOVA_REFUSED = "method 'tova' is not served by this gateway's runner (backend webgpu); backends that serve it: wasm, tensorflow, cpu";

const request = (id: string, method: string, ratio?: number) => ({
  custom_id: id,
  prompt: `Q:${id}=`,
  params: { max_tokens: 16, compression: ratio === undefined ? { method } : { method, ratio } },
});

let h: Harness;
afterEach(() => h.close());

describe('a gateway whose only runner is on webgpu (runner API off)', () => {
  it('refuses a tova request with 400 naming requests[3].params.compression.method, and stores nothing', async () => {
    h = await makeHarness({ fleet: capabilityOf('webgpu') });
    const body = { requests: [request('a', 'none'), request('b', 'dms', 4), request('c', 'window', 2), request('d', 'tova', 2)] };
    const res = await h.submit(body);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ type: 'invalid_request', field: 'requests[3].params.compression.method' });
    expect(res.body.error.issues).toEqual([{ field: 'requests[3].params.compression.method', reason: TOVA_REFUSED }]);
    expect((await (await h.call('GET', '/v1/jobs')).json()).data).toEqual([]);
    expect(await h.store.metricsSnapshot(60_000)).toMatchObject({ queuedJobs: 0, jobsByStatus: {} });

    // h2o and quest too; a method from the defaults is named there.
    const more = await h.submit({ requests: [request('e', 'h2o', 2), request('f', 'quest', 2)] });
    expect(more.body.error.issues.map((i: { field: string; reason: string }) => [i.field, i.reason.split(';')[0]])).toEqual([
      ['requests[0].params.compression.method', "method 'h2o' is not served by this gateway's runner (backend webgpu)"],
      ['requests[1].params.compression.method', "method 'quest' is not served by this gateway's runner (backend webgpu)"],
    ]);
    const byDefault = await h.submit({ defaults: { compression: { method: 'tova', ratio: 2 } }, requests: [{ custom_id: 'g', prompt: 'Q=' }] });
    expect(byDefault.body.error.issues).toEqual([{ field: 'defaults.compression.method', reason: TOVA_REFUSED }]);

    // What it serves is accepted.
    const ok = await h.submit({ requests: body.requests.slice(0, 3) });
    expect(ok.status).toBe(201);
  });

  it('fails an OpenAI batch whose line asks for tova, naming the line and body.compression.method, with no job', async () => {
    h = await makeHarness({ fleet: capabilityOf('webgpu') });
    const line = (id: string, compression?: unknown) => ({
      custom_id: id,
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: 'reasoner', messages: [{ role: 'user', content: `Q:${id}=` }], max_tokens: 16, ...(compression ? { compression } : {}) },
    });
    const form = new FormData();
    form.set('purpose', 'batch');
    const text = `${[line('a'), line('b', { method: 'tova', ratio: 2 })].map((l) => JSON.stringify(l)).join('\n')}\n`;
    form.set('file', new File([text], 'in.jsonl', { type: 'application/jsonl' }));
    const file = await (await h.app.request('/v1/files', { method: 'POST', body: form, headers: { authorization: `Bearer ${h.keyA}` } })).json();
    const res = await h.call('POST', '/v1/batches', { body: { input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' } });
    const batch = await res.json();
    expect(batch).toMatchObject({ status: 'failed', job_id: null });
    expect(batch.errors.data).toEqual([
      { code: 'invalid_request', line: 2, param: 'body.compression.method', message: `body.compression.method: ${TOVA_REFUSED}` },
    ]);
    expect((await (await h.call('GET', '/v1/jobs')).json()).data).toEqual([]);
  });

  it('accepts every method when the only runner is on wasm', async () => {
    h = await makeHarness({ fleet: capabilityOf('wasm') });
    expect((await h.submit({ requests: [request('a', 'tova', 2), request('b', 'h2o', 2), request('c', 'quest', 2)] })).status).toBe(201);
  });
});

/** A FAKE executor with a capability: canned results, no engine. */
class CapableExecutor implements Executor {
  readonly backend: string;
  constructor(readonly capability: RunnerCapability) {
    this.backend = capability.backend;
  }
  async execute(_job: ClaimedJob, requests: PendingRequest[], ctx: ExecutionContext): Promise<void> {
    for (const r of requests) await ctx.onResult({ ...okResult(r.custom_id), backend: this.backend });
  }
}

describe('with remote runners (runner API on): the job waits for a runner that serves it', () => {
  it('accepts a tova job, keeps it queued past webgpu runners, and a wasm runner claims it', async () => {
    h = await makeHarness();
    const submitted = await h.submit({ requests: [request('a', 'none'), request('b', 'tova', 2)] });
    expect(submitted.status).toBe(201);
    const id = submitted.body.id as string;
    const webgpu = capabilityOf('webgpu');
    expect((await h.runner('/claim', { runner_id: 'gpu-webgpu', backend: 'webgpu (llvmpipe)', methods: webgpu.methods })).status).toBe(204);
    // A runner that reports only its backend (as runners before `methods` did) is routed by it.
    expect((await h.runner('/claim', { runner_id: 'old-webgpu', backend: 'webgpu (llvmpipe)' })).status).toBe(204);
    expect((await h.runner('/claim', { runner_id: 'bad', methods: ['lru'] })).status).toBe(400);
    expect((await h.getJob(id)).body).toMatchObject({ status: 'queued', request_counts: { queued: 2 } });

    const http = () =>
      new HttpJobSource({ baseUrl: 'http://gateway', token: RUNNER_TOKEN, fetch: (url, init) => Promise.resolve(h.app.request(url as string, init)) });
    const quiet = { log: () => {}, heartbeatMs: 10, pollMinMs: 5, pollMaxMs: 20 };
    const gpuLoop = new RunnerLoop(http(), new CapableExecutor(webgpu), { runnerId: 'gpu-loop', ...quiet });
    expect(await gpuLoop.runOnce()).toBe('idle');
    const wasmLoop = new RunnerLoop(http(), new CapableExecutor(capabilityOf('wasm')), { runnerId: 'wasm-loop', ...quiet });
    expect(await wasmLoop.runOnce()).toBe('completed');
    const lines = (await h.results(id)).lines;
    expect(lines.map((l) => [l.custom_id, l.status, l.backend])).toEqual([
      ['a', 'succeeded', 'wasm'],
      ['b', 'succeeded', 'wasm'],
    ]);
  });

  it('a webgpu runner still takes the jobs it serves, and a runner naming neither methods nor backend takes any', async () => {
    h = await makeHarness();
    const tova = (await h.submit({ requests: [request('a', 'tova', 2)] })).body.id;
    const dms = (await h.submit({ requests: [request('a', 'dms', 4), request('b', 'window', 2)] })).body.id;
    expect((await h.runner('/claim', { runner_id: 'gpu-webgpu', methods: capabilityOf('webgpu').methods })).body.job.id).toBe(dms);
    expect((await h.runner('/claim', { runner_id: 'anything' })).body.job.id).toBe(tova);
  });
});

// The client job API through app.request() on a migrated in-memory SQLite: the full lifecycle,
// listing, results streaming, cancel, tenant isolation, idempotency, auth, health and OpenAPI.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { referencedSchemas } from '../../gateway/openapi.js';
import { type Harness, jobBody, makeHarness, okResult, RUNNER_TOKEN } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(() => h.close());

describe('job lifecycle', () => {
  it('submits, runs, reports live counts and usage, streams results, completes', async () => {
    const sub = await h.submit({
      ...jobBody(3),
      defaults: { max_tokens: 100, n: 2, compression: { method: 'dms', ratio: 4 } },
      metadata: { experiment: 'e1' },
    });
    expect(sub.status).toBe(201);
    const job = sub.body;
    expect(job).toMatchObject({ object: 'job', model: 'reasoner', status: 'queued', attempt: 0, usage: null, metadata: { experiment: 'e1' } });
    expect(job.request_counts).toEqual({ total: 3, queued: 3, running: 0, succeeded: 0, failed: 0, canceled: 0 });

    const claim = await h.runner('/claim', { runner_id: 'gpu-1', backend: 'wasm' });
    expect(claim.status).toBe(200);
    expect(claim.body.job.id).toBe(job.id);
    expect(claim.body.lease.attempt).toBe(1);
    expect(claim.body.requests.map((r: { custom_id: string }) => r.custom_id)).toEqual(['r0', 'r1', 'r2']);
    expect(claim.body.requests[0].params).toEqual({
      max_tokens: 100,
      temperature: 0.7,
      top_p: 0.95,
      top_k: 0,
      seed: null,
      stop: [],
      n: 2,
      compression: { method: 'dms', ratio: 4 },
      answer_pattern: null,
    });
    const lease = claim.body.lease.lease_token;

    let view = (await h.getJob(job.id)).body;
    expect(view.status).toBe('running');
    expect(view.started_at).not.toBeNull();
    expect(view.request_counts).toMatchObject({ queued: 0, running: 3 });

    const w = await h.runner(`/jobs/${job.id}/results`, { lease_token: lease, results: [okResult('r1', '7', 3.6)] });
    expect(w).toEqual({ status: 200, body: { written: ['r1'], already_written: [] } });
    view = (await h.getJob(job.id)).body;
    expect(view.request_counts).toMatchObject({ running: 2, succeeded: 1 });
    expect(view.usage).toMatchObject({ num_results: 1, prompt_tokens: 7, completion_tokens: 22, runner_seconds: 3.6 });
    expect(view.usage.cost).toBeCloseTo(3.6 * (2.0 / 3600), 12);

    // Results so far: only the finished request.
    let res = await h.results(job.id);
    expect(res.status).toBe(200);
    expect(res.lines.map((l) => l.custom_id)).toEqual(['r1']);

    const failed = { ...okResult('r0'), status: 'failed', answer: null, usage: null, error: { code: 'oom', message: 'out of KV pages' } };
    await h.runner(`/jobs/${job.id}/results`, { lease_token: lease, results: [failed, okResult('r2', '9', 1.2)] });
    expect((await h.runner(`/jobs/${job.id}/heartbeat`, { lease_token: lease })).body.cancel_requested).toBe(false);
    const done = await h.runner(`/jobs/${job.id}/complete`, { lease_token: lease });
    expect(done.body).toEqual({ status: 'completed' });

    view = (await h.getJob(job.id)).body;
    expect(view.status).toBe('completed');
    expect(view.completed_at).not.toBeNull();
    expect(view.request_counts).toEqual({ total: 3, queued: 0, running: 0, succeeded: 2, failed: 1, canceled: 0 });
    expect(view.usage).toMatchObject({ num_results: 2, runner_seconds: 4.8, peak_kv_tokens: 160, achieved_ratio: 3.5 });
    expect(view.usage.cost).toBeCloseTo(4.8 * (2.0 / 3600), 12);

    res = await h.results(job.id);
    expect(res.lines.map((l) => [l.custom_id, l.status])).toEqual([
      ['r0', 'failed'],
      ['r1', 'succeeded'],
      ['r2', 'succeeded'],
    ]);
    expect(res.lines[1]).toMatchObject({ answer: '7', backend: 'wasm', timings: { ttft_ms: 5 }, usage: { runner_seconds: 3.6 } });
    expect(res.lines[1].threads).toHaveLength(2);
    expect(res.lines[0].error).toEqual({ code: 'oom', message: 'out of KV pages' });
  });

  it('streams every line of a job larger than one page, in submission order', async () => {
    const sub = await h.submit(jobBody(450));
    const claim = await h.runner('/claim', { runner_id: 'gpu-1' });
    const lease = claim.body.lease.lease_token;
    const all = Array.from({ length: 450 }, (_, i) => okResult(`r${i}`, String(i)));
    for (let i = 0; i < 450; i += 150) {
      expect((await h.runner(`/jobs/${sub.body.id}/results`, { lease_token: lease, results: all.slice(i, i + 150) })).status).toBe(200);
    }
    const res = await h.results(sub.body.id);
    expect(res.lines).toHaveLength(450);
    expect(res.lines.map((l) => l.answer)).toEqual(all.map((r) => r.answer));
  });

  it('accepts a job of exactly 10,000 requests (the default limit) and claims it whole', async () => {
    const sub = await h.submit({ ...jobBody(10_000), defaults: { max_tokens: 64 } });
    expect(sub.status).toBe(201);
    expect(sub.body.request_counts.queued).toBe(10_000);
    expect((await h.runner('/claim', { runner_id: 'gpu-1' })).body.requests).toHaveLength(10_000);
  });

  it('lists the caller’s jobs newest first with cursor pagination', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await h.submit(jobBody(1))).body.id);
    await h.submit(jobBody(1), { token: h.keyB });
    const page1 = await (await h.call('GET', '/v1/jobs?limit=2')).json();
    expect(page1.data.map((j: { id: string }) => j.id)).toEqual([ids[4], ids[3]]);
    expect(page1.has_more).toBe(true);
    const page2 = await (await h.call('GET', `/v1/jobs?limit=2&after=${page1.next_after}`)).json();
    expect(page2.data.map((j: { id: string }) => j.id)).toEqual([ids[2], ids[1]]);
    const page3 = await (await h.call('GET', `/v1/jobs?limit=2&after=${page2.next_after}`)).json();
    expect(page3).toMatchObject({ has_more: false, next_after: null });
    expect(page3.data.map((j: { id: string }) => j.id)).toEqual([ids[0]]);
    const bad = await h.call('GET', '/v1/jobs?limit=0');
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.field).toBe('limit');
    expect((await h.call('GET', '/v1/jobs?limit=1000')).status).toBe(400);
  });

  it('filters the list by status (?status=, comma-separated), paging within the filter', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await h.submit(jobBody(1))).body.id);
    await h.call('POST', `/v1/jobs/${ids[1]}/cancel`);
    await h.call('POST', `/v1/jobs/${ids[3]}/cancel`);
    const listed = async (query: string) => ((await (await h.call('GET', `/v1/jobs?${query}`)).json()).data as Array<{ id: string }>).map((j) => j.id);
    expect(await listed('status=canceled')).toEqual([ids[3], ids[1]]);
    expect(await listed('status=queued')).toEqual([ids[2], ids[0]]);
    expect(await listed('status=queued,canceled')).toEqual([ids[3], ids[2], ids[1], ids[0]]);
    const first = await (await h.call('GET', '/v1/jobs?status=canceled&limit=1')).json();
    expect(first).toMatchObject({ has_more: true, next_after: ids[3] });
    expect(await listed(`status=canceled&after=${first.next_after}`)).toEqual([ids[1]]);
    const bad = await h.call('GET', '/v1/jobs?status=queued,done');
    expect(bad.status).toBe(400);
    const body = await bad.json();
    expect(body.error.field).toBe('status');
    expect(body.error.issues[0].reason).toMatch(/one or more of queued, running, completed, failed, canceling, canceled/);
  });
});

describe('cancel', () => {
  it('cancels a queued job at once', async () => {
    const { body: job } = await h.submit(jobBody(2));
    const res = await h.call('POST', `/v1/jobs/${job.id}/cancel`);
    expect(res.status).toBe(200);
    const view = await res.json();
    expect(view.status).toBe('canceled');
    expect(view.request_counts).toMatchObject({ canceled: 2, queued: 0 });
    expect((await h.runner('/claim', { runner_id: 'gpu-1' })).status).toBe(204);
    // Canceling again is harmless.
    expect((await h.call('POST', `/v1/jobs/${job.id}/cancel`)).status).toBe(200);
  });

  it('cancels a running job through the heartbeat, keeping finished results', async () => {
    const { body: job } = await h.submit(jobBody(3));
    const claim = await h.runner('/claim', { runner_id: 'gpu-1' });
    const lease = claim.body.lease.lease_token;
    await h.runner(`/jobs/${job.id}/results`, { lease_token: lease, results: [okResult('r0')] });
    const res = await h.call('POST', `/v1/jobs/${job.id}/cancel`);
    expect((await res.json()).status).toBe('canceling');
    expect((await h.runner(`/jobs/${job.id}/heartbeat`, { lease_token: lease })).body.cancel_requested).toBe(true);
    // A result finished before the runner noticed is still kept.
    await h.runner(`/jobs/${job.id}/results`, { lease_token: lease, results: [okResult('r1')] });
    expect((await h.runner(`/jobs/${job.id}/complete`, { lease_token: lease })).body).toEqual({ status: 'canceled' });
    const view = (await h.getJob(job.id)).body;
    expect(view.status).toBe('canceled');
    expect(view.canceled_at).not.toBeNull();
    expect(view.request_counts).toMatchObject({ succeeded: 2, canceled: 1, running: 0 });
    const lines = (await h.results(job.id)).lines;
    expect(lines.map((l) => l.status)).toEqual(['succeeded', 'succeeded', 'canceled']);
  });

  it('refuses to cancel a finished job', async () => {
    const { body: job } = await h.submit(jobBody(1));
    const lease = (await h.runner('/claim', { runner_id: 'gpu-1' })).body.lease.lease_token;
    await h.runner(`/jobs/${job.id}/results`, { lease_token: lease, results: [okResult('r0')] });
    await h.runner(`/jobs/${job.id}/complete`, { lease_token: lease });
    const res = await h.call('POST', `/v1/jobs/${job.id}/cancel`);
    expect(res.status).toBe(409);
    expect((await h.getJob(job.id)).body.status).toBe('completed');
  });
});

describe('tenant isolation', () => {
  it('hides one tenant’s jobs from another with 404', async () => {
    const { body: job } = await h.submit(jobBody(1));
    expect((await h.getJob(job.id, h.keyB)).status).toBe(404);
    expect((await h.results(job.id, h.keyB)).status).toBe(404);
    expect((await h.call('POST', `/v1/jobs/${job.id}/cancel`, { token: h.keyB })).status).toBe(404);
    expect((await (await h.call('GET', '/v1/jobs', { token: h.keyB })).json()).data).toEqual([]);
    expect((await h.getJob(job.id)).body.status).toBe('queued');
    expect((await h.getJob('job_doesnotexist')).status).toBe(404);
  });
});

describe('idempotency', () => {
  it('returns the same job for the same key and body, 409 for a different body', async () => {
    const headers = { 'Idempotency-Key': 'batch-2026-01-01' };
    const first = await h.submit(jobBody(2), { headers });
    const again = await h.submit(
      {
        requests: [
          { prompt: 'Q:0+1=', custom_id: 'r0' },
          { custom_id: 'r1', prompt: 'Q:1+1=' },
        ],
      },
      { headers },
    );
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const other = await h.submit(jobBody(3), { headers });
    expect(other.status).toBe(409);
    expect(other.body.error.field).toBe('Idempotency-Key');
    // Same key, other tenant: an independent job.
    const b = await h.submit(jobBody(2), { headers, token: h.keyB });
    expect(b.status).toBe(201);
    expect(b.body.id).not.toBe(first.body.id);
    expect((await (await h.call('GET', '/v1/jobs')).json()).data).toHaveLength(1);
  });

  it('answers concurrent submissions with one key with a single job', async () => {
    const headers = { 'Idempotency-Key': 'race' };
    const outs = await Promise.all([1, 2, 3, 4].map(() => h.submit(jobBody(2), { headers })));
    expect(new Set(outs.map((o) => o.body.id)).size).toBe(1);
    expect(outs.every((o) => o.status === 201)).toBe(true);
  });
});

describe('auth', () => {
  it('requires a client key on the job API and a runner token on the runner API', async () => {
    expect((await h.call('GET', '/v1/jobs', { token: null })).status).toBe(401);
    expect((await h.call('GET', '/v1/jobs', { token: 'dms_wrong' })).status).toBe(401);
    expect((await h.call('GET', '/v1/jobs', { token: RUNNER_TOKEN })).status).toBe(401);
    expect((await h.runner('/claim', { runner_id: 'x' }, h.keyA)).status).toBe(403);
    expect((await h.runner('/claim', { runner_id: 'x' }, 'nope')).status).toBe(401);
    const res = await h.call('POST', '/v1/runner/claim', { token: null, body: { runner_id: 'x' } });
    expect(res.status).toBe(401);
    expect((await res.json()).error.type).toBe('unauthorized');
  });
});

describe('health, models and OpenAPI', () => {
  it('answers /healthz with models and the runners seen, with their backend', async () => {
    await h.runner('/claim', { runner_id: 'gpu-7', backend: 'tensorflow' });
    const res = await h.call('GET', '/healthz', { token: null });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ status: 'ok', default_model: 'reasoner', models: ['reasoner', 'tiny'] });
    expect(body.runners).toEqual([expect.objectContaining({ runner_id: 'gpu-7', backend: 'tensorflow' })]);
  });

  it('serves the catalog and an OpenAPI document generated from the zod schemas', async () => {
    const models = await (await h.call('GET', '/v1/models')).json();
    const created = Math.floor(h.now() / 1000);
    expect(models).toMatchObject({ object: 'list', default_model: 'reasoner' });
    expect(models.data.map((m: { id: string }) => m.id)).toEqual(['reasoner', 'tiny']);
    expect(models.data[0]).toMatchObject({ id: 'reasoner', object: 'model', created, owned_by: 'dms-batch', dmsRatios: [2, 4, 8], contextLength: 512 });
    expect(await (await h.call('GET', '/v1/models/tiny')).json()).toEqual(models.data[1]);
    const missing = await h.call('GET', '/v1/models/gpt-5');
    expect(missing.status).toBe(404);
    expect((await missing.json()).error).toMatchObject({ type: 'not_found_error', code: 'model_not_found', param: 'model' });
    const doc = await (await h.call('GET', '/openapi.json', { token: null })).json();
    expect(doc.openapi).toBe('3.1.0');
    for (const id of referencedSchemas()) expect(doc.components.schemas[id], id).toBeDefined();
    expect(doc.paths['/v1/jobs'].post.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/SubmitJob');
    expect(doc.components.schemas.Compression.properties.method.enum).toEqual(['none', 'dms', 'tova', 'h2o', 'quest', 'window']);
    expect(doc.components.schemas.SubmitJob.required).toEqual(['requests']);
    expect(Object.keys(doc.paths)).toContain('/v1/runner/jobs/{id}/heartbeat');
    expect(Object.keys(doc.paths['/v1/jobs'].post.responses)).toEqual(expect.arrayContaining(['429', '503']));
    expect(doc.paths['/v1/batches'].post.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/OpenAiCreateBatch');
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await h.call('GET', '/nope', { token: null });
    expect(res.status).toBe(404);
    expect((await res.json()).error.type).toBe('not_found');
  });
});

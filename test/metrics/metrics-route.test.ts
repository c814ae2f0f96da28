// GET /metrics through the app on a real SQLite store: token or loopback-only access, the store
// gauges at scrape time, and counters (claims, tokens, KV reads by method, ratio, stale writes, HTTP) moving as a job runs.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../gateway/app.js';
import { type Harness, jobBody, makeHarness, okResult, RUNNER_TOKEN, TEST_CATALOG } from '../gateway/harness.js';
import { parsePrometheusText, sampleValue } from './prom-text.js';

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(() => h.close());

/** An app over the harness store with the given /metrics settings; `peer` is the connection's address. */
function appWith(opts: { token?: string; peer?: string }) {
  return createApp({
    store: h.store,
    models: TEST_CATALOG,
    auth: { runnerTokens: [RUNNER_TOKEN] },
    clock: h.now,
    metricsToken: opts.token,
    remoteAddress: opts.peer === undefined ? undefined : () => opts.peer,
  });
}

const call = (app: ReturnType<typeof appWith>, method: string, path: string, token?: string, body?: unknown, headers: Record<string, string> = {}) =>
  app.request(path, {
    method,
    headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });

async function scrape(app: ReturnType<typeof appWith>, token?: string) {
  const res = await call(app, 'GET', '/metrics', token);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text());
}

describe('/metrics access', () => {
  it('needs DMS_METRICS_TOKEN when one is set, whatever the peer', async () => {
    const app = appWith({ token: 'metrics-secret', peer: '127.0.0.1' });
    expect((await call(app, 'GET', '/metrics')).status).toBe(401);
    expect((await call(app, 'GET', '/metrics', 'wrong')).status).toBe(401);
    expect((await call(app, 'GET', '/metrics', h.keyA)).status).toBe(401);
    expect((await call(app, 'GET', '/metrics', 'metrics-secret')).status).toBe(200);
  });

  it('without a token answers direct loopback peers only', async () => {
    expect((await call(appWith({ peer: '127.0.0.1' }), 'GET', '/metrics')).status).toBe(200);
    expect((await call(appWith({ peer: '::1' }), 'GET', '/metrics')).status).toBe(200);
    expect((await call(appWith({ peer: '::ffff:127.0.0.1' }), 'GET', '/metrics')).status).toBe(200);
    expect((await call(appWith({ peer: '10.0.0.7' }), 'GET', '/metrics')).status).toBe(403);
    expect((await call(appWith({}), 'GET', '/metrics')).status).toBe(403);
    const proxied = await call(appWith({ peer: '127.0.0.1' }), 'GET', '/metrics', undefined, undefined, { 'x-forwarded-for': '203.0.113.9' });
    expect(proxied.status).toBe(403);
  });
});

describe('/metrics values', () => {
  it('reports store gauges at scrape time and counters that move as a job runs', async () => {
    const app = appWith({ token: 't' });
    const before = await scrape(app, 't');
    expect(sampleValue(before, 'dms_jobs', { status: 'queued' })).toBe(0);
    expect(sampleValue(before, 'dms_lease_claims_total')).toBe(0);

    const body = jobBody(2, { defaults: { compression: { method: 'dms', ratio: 4 } } });
    body.requests[1] = { ...body.requests[1], params: { compression: { method: 'tova', ratio: 2 } } } as (typeof body.requests)[number];
    const submitted = await call(app, 'POST', '/v1/jobs', h.keyA, body);
    expect(submitted.status).toBe(201);
    const job = await submitted.json();
    h.advance(30_000);
    const queued = await scrape(app, 't');
    expect(sampleValue(queued, 'dms_jobs', { status: 'queued' })).toBe(1);
    expect(sampleValue(queued, 'dms_requests', { status: 'pending' })).toBe(2);
    expect(sampleValue(queued, 'dms_queue_depth')).toBe(1);
    expect(sampleValue(queued, 'dms_queue_oldest_age_seconds')).toBe(30);

    const claim = await (await call(app, 'POST', '/v1/runner/claim', RUNNER_TOKEN, { runner_id: 'r1', backend: 'wasm' })).json();
    const lease = claim.lease.lease_token;
    const write = await call(app, 'POST', `/v1/runner/jobs/${job.id}/results`, RUNNER_TOKEN, { lease_token: lease, results: [okResult('r0'), okResult('r1')] });
    expect(write.status).toBe(200);
    expect((await call(app, 'POST', `/v1/runner/jobs/${job.id}/complete`, RUNNER_TOKEN, { lease_token: lease })).status).toBe(200);
    expect((await call(app, 'POST', `/v1/runner/jobs/${job.id}/heartbeat`, RUNNER_TOKEN, { lease_token: lease })).status).toBe(409);

    const after = await scrape(app, 't');
    expect(sampleValue(after, 'dms_jobs', { status: 'completed' })).toBe(1);
    expect(sampleValue(after, 'dms_requests', { status: 'succeeded' })).toBe(2);
    expect(sampleValue(after, 'dms_queue_depth')).toBe(0);
    expect(sampleValue(after, 'dms_lease_claims_total')).toBe(1);
    expect(sampleValue(after, 'dms_runners_seen')).toBe(1);
    expect(sampleValue(after, 'dms_completion_tokens_total', { method: 'dms' })).toBe(22);
    expect(sampleValue(after, 'dms_kv_token_reads_total', { method: 'dms' })).toBe(1000);
    expect(sampleValue(after, 'dms_kv_token_reads_total', { method: 'tova' })).toBe(1000);
    expect(sampleValue(after, 'dms_achieved_ratio_count', { method: 'dms' })).toBe(1);
    expect(sampleValue(after, 'dms_achieved_ratio_bucket', { method: 'dms', le: '4' })).toBe(1);
    expect(sampleValue(after, 'dms_achieved_ratio_bucket', { method: 'dms', le: '3' })).toBe(0);
    expect(sampleValue(after, 'dms_stale_writes_total', { op: 'heartbeat' })).toBe(1);
    expect(sampleValue(after, 'dms_results_written_total', { status: 'succeeded', method: 'tova' })).toBe(1);
    expect(sampleValue(after, 'dms_http_requests_total', { route: '/v1/jobs', method: 'POST', status: '201' })).toBe(1);
    expect(sampleValue(after, 'dms_http_requests_total', { route: '/v1/runner/jobs/:id/heartbeat', method: 'POST', status: '409' })).toBe(1);
    // A scrape is counted once it has answered, so this one sees the two before it.
    expect(sampleValue(after, 'dms_http_request_duration_seconds_count', { route: '/metrics', method: 'GET', status: '200' })).toBe(2);
  });

  it('counts expired leases taken back by the sweep', async () => {
    const app = appWith({ token: 't' });
    await call(app, 'POST', '/v1/jobs', h.keyA, jobBody(1));
    const claim = await (await call(app, 'POST', '/v1/runner/claim', RUNNER_TOKEN, { runner_id: 'r1' })).json();
    h.backdateLease(claim.job.id);
    await call(app, 'POST', '/v1/runner/claim', RUNNER_TOKEN, { runner_id: 'r2' });
    const after = await scrape(app, 't');
    expect(sampleValue(after, 'dms_lease_expiries_total', { outcome: 'requeued' })).toBe(1);
    expect(sampleValue(after, 'dms_http_requests_total', { route: 'unmatched', method: 'GET', status: '404' })).toBeUndefined();
    await call(app, 'GET', '/no/such/path');
    expect(sampleValue(await scrape(app, 't'), 'dms_http_requests_total', { route: 'unmatched', method: 'GET', status: '404' })).toBe(1);
  });
});

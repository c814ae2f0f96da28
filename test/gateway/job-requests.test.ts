// GET /v1/jobs/:id/requests: prompts and resolved params back in submission order, page by page,
// with status following the results; another tenant's job is a 404, as everywhere in the client API.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, jobBody, makeHarness, okResult } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(() => h.close());

describe('GET /v1/jobs/:id/requests', () => {
  it('lists prompts and resolved params in order, pages with after, and follows results', async () => {
    const job = (await h.submit(jobBody(5, { defaults: { n: 3, compression: { method: 'dms', ratio: 4 } } }))).body;
    const first = await (await h.call('GET', `/v1/jobs/${job.id}/requests?limit=2`)).json();
    expect(first).toMatchObject({ object: 'list', has_more: true, next_after: 1 });
    expect(first.data.map((r: { custom_id: string; prompt: string }) => [r.custom_id, r.prompt])).toEqual([
      ['r0', 'Q:0+1='],
      ['r1', 'Q:1+1='],
    ]);
    expect(first.data[0]).toMatchObject({ status: 'pending', params: { n: 3, compression: { method: 'dms', ratio: 4 } } });
    const rest = await (await h.call('GET', `/v1/jobs/${job.id}/requests?after=${first.next_after}`)).json();
    expect(rest).toMatchObject({ has_more: false, next_after: null });
    expect(rest.data.map((r: { custom_id: string }) => r.custom_id)).toEqual(['r2', 'r3', 'r4']);

    const claim = (await h.runner('/claim', { runner_id: 'r' })).body;
    await h.runner(`/jobs/${job.id}/results`, { lease_token: claim.lease.lease_token, results: [okResult('r3')] });
    const after = await (await h.call('GET', `/v1/jobs/${job.id}/requests`)).json();
    expect(after.data.map((r: { status: string }) => r.status)).toEqual(['pending', 'pending', 'pending', 'succeeded', 'pending']);
  });

  it('is tenant-scoped and validates its query', async () => {
    const job = (await h.submit(jobBody(1))).body;
    expect((await h.call('GET', `/v1/jobs/${job.id}/requests`, { token: h.keyB })).status).toBe(404);
    expect((await h.call('GET', '/v1/jobs/job_nope/requests')).status).toBe(404);
    expect((await h.call('GET', `/v1/jobs/${job.id}/requests`, { token: null })).status).toBe(401);
    expect((await h.call('GET', `/v1/jobs/${job.id}/requests?limit=5000`)).status).toBe(400);
    expect((await h.call('GET', `/v1/jobs/${job.id}/requests?after=x`)).status).toBe(400);
  });
});

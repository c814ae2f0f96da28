// Request body limits: a body over maxBodyBytes is refused with 413 whether it declares its length
// or streams without one (chunked), on client and runner routes alike, and nothing is stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSecurityApp, oneJob, RUNNER_TOKEN } from './security-app.js';

const LIMIT = 4096;
let t: Awaited<ReturnType<typeof makeSecurityApp>>;
beforeAll(async () => {
  t = await makeSecurityApp({ limits: { maxBodyBytes: LIMIT, maxRequestsPerJob: 5, maxResultsPerWrite: 2 } });
});
afterAll(() => t.close());

/** A JSON body of exactly `size` bytes: one job whose prompt pads it out. */
function bodyOfSize(size: number): string {
  const shell = JSON.stringify(oneJob(''));
  return JSON.stringify(oneJob('x'.repeat(size - shell.length)));
}

/** The same bytes as a stream without Content-Length (what a chunked upload looks like). */
function streamed(text: string, chunk = 1000): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + chunk));
      at += chunk;
    },
  });
}

describe('body limits', () => {
  it('accepts a body of exactly the limit and refuses one byte more (413), with Content-Length', async () => {
    const before = t.countJobs();
    expect(bodyOfSize(LIMIT).length).toBe(LIMIT);
    expect((await t.call('POST', '/v1/jobs', { raw: bodyOfSize(LIMIT), headers: { 'content-type': 'application/json' } })).status).toBe(201);
    const over = await t.call('POST', '/v1/jobs', { raw: bodyOfSize(LIMIT + 1), headers: { 'content-type': 'application/json' } });
    expect(over.status).toBe(413);
    expect(((await over.json()) as { error: { type: string } }).error.type).toBe('payload_too_large');
    expect(t.countJobs()).toBe(before + 1);
  });

  it('refuses a declared Content-Length over the limit from the header alone (what Node requests carry)', async () => {
    const before = t.countJobs();
    const declared = (n: number, body: string) =>
      t.app.request('/v1/jobs', {
        method: 'POST',
        headers: { authorization: `Bearer ${t.keyA}`, 'content-type': 'application/json', 'content-length': String(n) },
        body,
      });
    expect((await declared(LIMIT + 1, JSON.stringify(oneJob()))).status).toBe(413);
    expect((await declared(LIMIT, bodyOfSize(LIMIT))).status).toBe(201);
    expect(t.countJobs()).toBe(before + 1);
  });

  it('refuses a streamed (chunked, no Content-Length) body once it passes the limit', async () => {
    const before = t.countJobs();
    const ok = await t.call('POST', '/v1/jobs', { raw: streamed(bodyOfSize(LIMIT - 10)), headers: { 'content-type': 'application/json' } });
    expect(ok.status).toBe(201);
    const over = await t.call('POST', '/v1/jobs', { raw: streamed(`${bodyOfSize(LIMIT * 50)}`), headers: { 'content-type': 'application/json' } });
    expect(over.status).toBe(413);
    expect(t.countJobs()).toBe(before + 1);
  });

  it('applies to the runner API and the OpenAI upload too', async () => {
    const big = `{"runner_id":"${'r'.repeat(LIMIT)}"}`;
    expect((await t.call('POST', '/v1/runner/claim', { token: RUNNER_TOKEN, raw: big, headers: { 'content-type': 'application/json' } })).status).toBe(413);
    const form = new FormData();
    form.set('purpose', 'batch');
    form.set('file', new Blob(['{"custom_id":"a"}\n'.repeat(LIMIT / 8)]), 'input.jsonl');
    expect((await t.call('POST', '/v1/files', { raw: form })).status).toBe(413);
  });

  it('limits counts as well as bytes: requests per job (413) and results per runner write (413)', async () => {
    const six = { requests: Array.from({ length: 6 }, (_, i) => ({ custom_id: `r${i}`, prompt: 'p', params: { max_tokens: 8 } })) };
    expect((await t.call('POST', '/v1/jobs', { body: six })).status).toBe(413);
    const claim = await t.call('POST', '/v1/runner/claim', { token: RUNNER_TOKEN, body: { runner_id: 'r' } });
    expect(claim.status).toBe(200);
    const { job, lease } = (await claim.json()) as { job: { id: string }; lease: { lease_token: string } };
    const result = (id: string) => ({
      custom_id: id,
      status: 'failed',
      answer: null,
      threads: [],
      usage: null,
      timings: null,
      error: { code: 'x', message: 'y' },
    });
    const write = await t.call('POST', `/v1/runner/jobs/${job.id}/results`, {
      token: RUNNER_TOKEN,
      body: { lease_token: lease.lease_token, results: [result('a'), result('b'), result('c')] },
    });
    expect(write.status).toBe(413);
  });

  it('refuses an over-long Idempotency-Key (400) before reading the body', async () => {
    const res = await t.call('POST', '/v1/jobs', { body: oneJob(), headers: { 'idempotency-key': 'k'.repeat(256) } });
    expect(res.status).toBe(400);
  });
});

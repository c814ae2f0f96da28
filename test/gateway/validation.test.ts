// Every bad input gets a 4xx whose JSON body names the field and the reason, and nothing already
// stored changes: each case is checked against a snapshot of the job and request tables.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, jobBody, makeHarness, okResult } from './harness.js';

let h: Harness;
let existingJobId: string;

/** The whole stored state, to compare before and after a rejected call. */
function snapshot() {
  const jobs = h.sqlDb.sqlite.prepare('SELECT * FROM jobs ORDER BY seq').all();
  const requests = h.sqlDb.sqlite.prepare('SELECT * FROM requests ORDER BY job_id, idx').all();
  return JSON.stringify({ jobs, requests });
}

beforeEach(async () => {
  h = await makeHarness({ limits: { maxRequestsPerJob: 50, maxBodyBytes: 64 * 1024 } });
  existingJobId = (await h.submit(jobBody(2), { headers: { 'Idempotency-Key': 'k1' } })).body.id;
});
afterEach(() => h.close());

async function expectRejected(send: () => Promise<Response>, status: number, field: string, reason: RegExp) {
  const before = snapshot();
  const res = await send();
  expect(res.status).toBe(status);
  const body = await res.json();
  expect(body.error.field).toBe(field);
  const issue = body.error.issues.find((i: { field: string }) => i.field === field);
  expect(issue?.reason ?? body.error.message).toMatch(reason);
  expect(snapshot()).toBe(before);
}

const post = (body: unknown) => h.call('POST', '/v1/jobs', { body });
const withParams = (params: unknown, prompt = 'Q:1+1=') => ({ requests: [{ custom_id: 'a', prompt, params }] });

describe('POST /v1/jobs rejects', () => {
  it('malformed JSON', async () => {
    await expectRejected(() => h.call('POST', '/v1/jobs', { raw: '{"requests": [' }), 400, 'body', /not valid JSON/);
    const body = await (await h.call('POST', '/v1/jobs', { raw: '{"requests": [' })).json();
    // Said once: "malformed JSON: body: not valid JSON (...)", never "malformed JSON: body: malformed JSON: ...".
    expect(body.error.message).toMatch(/^malformed JSON: body: not valid JSON \(/);
    expect(body.error.message.match(/malformed JSON/g)).toHaveLength(1);
  });
  it('a body that is not an object', async () => {
    await expectRejected(() => post([1, 2]), 400, 'body', /object/);
  });
  it('wrong types', async () => {
    await expectRejected(() => post({ requests: 'all of them' }), 400, 'requests', /array/);
    await expectRejected(() => post(withParams({ max_tokens: 'many' })), 400, 'requests[0].params.max_tokens', /number/);
    await expectRejected(() => post(withParams({ temperature: -1 })), 400, 'requests[0].params.temperature', />=/);
    await expectRejected(() => post({ requests: [{ custom_id: 7, prompt: 'x' }] }), 400, 'requests[0].custom_id', /string/);
  });
  it('missing or empty requests', async () => {
    await expectRejected(() => post({}), 400, 'requests', /array/);
    await expectRejected(() => post({ requests: [] }), 400, 'requests', /empty/);
  });
  it('an empty custom_id', async () => {
    await expectRejected(() => post({ requests: [{ custom_id: '', prompt: 'x' }] }), 400, 'requests[0].custom_id', /empty/);
  });
  it('duplicate custom_ids', async () => {
    const body = {
      requests: [
        { custom_id: 'a', prompt: 'x' },
        { custom_id: 'b', prompt: 'y' },
        { custom_id: 'a', prompt: 'z' },
      ],
    };
    await expectRejected(() => post(body), 400, 'requests[2].custom_id', /duplicate custom_id "a" \(first at requests\[0\]\)/);
  });
  it('an unknown field', async () => {
    await expectRejected(() => post(withParams({ max_token: 5 })), 400, 'requests[0].params.max_token', /unknown field/);
  });
  it('an unknown compression method', async () => {
    await expectRejected(() => post(withParams({ compression: { method: 'zip', ratio: 2 } })), 400, 'requests[0].params.compression.method', /none.*dms/);
  });
  it('a ratio below 1', async () => {
    await expectRejected(() => post(withParams({ compression: { method: 'tova', ratio: 0.5 } })), 400, 'requests[0].params.compression.ratio', />= 1/);
  });
  it('a missing ratio for a compressing method, or a ratio other than 1 for none', async () => {
    await expectRejected(() => post(withParams({ compression: { method: 'h2o' } })), 400, 'requests[0].params.compression.ratio', /required/);
    await expectRejected(() => post(withParams({ compression: { method: 'none', ratio: 2 } })), 400, 'requests[0].params.compression.ratio', /must be 1/);
  });
  it('a DMS ratio no checkpoint was trained for, listing the available ones', async () => {
    await expectRejected(
      () => post(withParams({ compression: { method: 'dms', ratio: 3 } })),
      400,
      'requests[0].params.compression.ratio',
      /available ratios: 2, 4, 8/,
    );
  });
  it('a method the model does not serve', async () => {
    const body = { model: 'tiny', ...withParams({ compression: { method: 'dms', ratio: 4 } }) };
    await expectRejected(() => post(body), 400, 'requests[0].params.compression.method', /does not serve method "dms"/);
  });
  it('an unknown model', async () => {
    await expectRejected(() => post({ model: 'gpt-9', ...jobBody(1) }), 400, 'model', /unknown model "gpt-9"; available: reasoner, tiny/);
  });
  it('max_tokens beyond the model context (prompt bytes + 1 + max_tokens)', async () => {
    // 10-byte prompt -> 11 tokens; 11 + 501 > 512.
    await expectRejected(() => post(withParams({ max_tokens: 502 }, '0123456789')), 400, 'requests[0].params.max_tokens', /~11 tokens.*context length 512/);
    expect((await post(withParams({ max_tokens: 501 }, '0123456789'))).status).toBe(201);
    // Multi-byte characters count by their UTF-8 bytes: 'é' is 2 bytes, 3 tokens with BOS.
    await expectRejected(() => post(withParams({ max_tokens: 510 }, 'é')), 400, 'requests[0].params.max_tokens', /~3 tokens/);
  });
  it('names the job defaults when the offending value came from them', async () => {
    const body = { model: 'tiny', requests: [{ custom_id: 'a', prompt: 'x' }], defaults: { max_tokens: 100 } };
    await expectRejected(() => post(body), 400, 'defaults.max_tokens', /context length 64/);
  });
  it('too many threads, a bad answer_pattern, too many metadata keys', async () => {
    await expectRejected(() => post(withParams({ n: 65 })), 400, 'requests[0].params.n', /at most 64/);
    await expectRejected(() => post(withParams({ answer_pattern: '(' })), 400, 'requests[0].params.answer_pattern', /regular expression/);
    const metadata = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']));
    await expectRejected(() => post({ ...jobBody(1), metadata }), 400, 'metadata', /at most 16 keys/);
  });
  it('too many requests (413)', async () => {
    await expectRejected(() => post(jobBody(51)), 413, 'requests', /51 requests exceed the limit of 50/);
  });
  it('too large a body (413), with and without Content-Length', async () => {
    const big = JSON.stringify({ requests: [{ custom_id: 'a', prompt: 'x'.repeat(70 * 1024) }] });
    await expectRejected(() => h.call('POST', '/v1/jobs', { raw: big }), 413, 'body', /larger than 65536 bytes/);
    const streamed = () =>
      h.app.request('/v1/jobs', {
        method: 'POST',
        headers: { authorization: `Bearer ${h.keyA}` },
        body: new Blob([big]).stream(),
        // @ts-expect-error: Node's fetch needs duplex for a streamed body
        duplex: 'half',
      });
    await expectRejected(async () => streamed(), 413, 'body', /larger than/);
  });
  it('a bad Idempotency-Key', async () => {
    const send = () => h.call('POST', '/v1/jobs', { body: jobBody(1), headers: { 'Idempotency-Key': 'x'.repeat(300) } });
    await expectRejected(send, 400, 'Idempotency-Key', /1-255 characters/);
  });
  it('caps the list of issues', async () => {
    const body = { requests: Array.from({ length: 50 }, (_, i) => ({ custom_id: `r${i}`, prompt: 'x', params: { n: 100 } })) };
    const res = await post(body);
    expect(res.status).toBe(400);
    const issues = (await res.json()).error.issues;
    expect(issues.length).toBeLessThanOrEqual(51);
  });
});

describe('unknown jobs', () => {
  it('404 on get, results and cancel', async () => {
    for (const [method, path] of [
      ['GET', '/v1/jobs/job_x'],
      ['GET', '/v1/jobs/job_x/results'],
      ['POST', '/v1/jobs/job_x/cancel'],
    ]) {
      const res = await h.call(method, path);
      expect(res.status, path).toBe(404);
      expect((await res.json()).error.type).toBe('not_found');
    }
  });
});

describe('runner API rejects', () => {
  it('bad bodies, unknown custom_ids and duplicates without writing anything', async () => {
    const lease = (await h.runner('/claim', { runner_id: 'gpu-1' })).body.lease.lease_token;
    const before = snapshot();
    const noRunnerId = await h.runner('/claim', {});
    expect(noRunnerId.status).toBe(400);
    expect(noRunnerId.body.error.field).toBe('runner_id');
    const unknown = await h.runner(`/jobs/${existingJobId}/results`, { lease_token: lease, results: [okResult('r0'), okResult('zz')] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.field).toBe('results[1].custom_id');
    const dup = await h.runner(`/jobs/${existingJobId}/results`, { lease_token: lease, results: [okResult('r0'), okResult('r0')] });
    expect(dup.status).toBe(400);
    expect(dup.body.error.field).toBe('results[1].custom_id');
    const badShape = await h.runner(`/jobs/${existingJobId}/results`, { lease_token: lease, results: [{ ...okResult('r0'), status: 'great' }] });
    expect(badShape.status).toBe(400);
    expect(badShape.body.error.field).toBe('results[0].status');
    const noReason = await h.runner(`/jobs/${existingJobId}/fail`, { lease_token: lease });
    expect(noReason.body.error.field).toBe('reason');
    expect(snapshot()).toBe(before);
  });
});

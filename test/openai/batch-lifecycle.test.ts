// The OpenAI-compatible Batch API through app.request, with results written over the runner protocol
// by the test itself (a FAKE runner: canned results, not the engine): states, files, errors, cancel, expiry.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, makeHarness, okResult } from '../gateway/harness.js';

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(() => h.close());

const chatLine = (id: string, extra: Record<string, unknown> = {}) => ({
  custom_id: id,
  method: 'POST',
  url: '/v1/chat/completions',
  body: { model: 'reasoner', messages: [{ role: 'user', content: `Q:${id}=` }], max_tokens: 32, ...extra },
});

async function upload(lines: unknown[] | string, token?: string) {
  const text = typeof lines === 'string' ? lines : `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`;
  const form = new FormData();
  form.set('purpose', 'batch');
  form.set('file', new File([text], 'input.jsonl', { type: 'application/jsonl' }));
  const res = await h.app.request('/v1/files', { method: 'POST', body: form, headers: { authorization: `Bearer ${token ?? h.keyA}` } });
  return { status: res.status, body: await res.json(), text };
}

async function createBatch(fileId: string, extra: Record<string, unknown> = {}) {
  const res = await h.call('POST', '/v1/batches', { body: { input_file_id: fileId, endpoint: '/v1/chat/completions', completion_window: '24h', ...extra } });
  return { status: res.status, body: await res.json() };
}

const getBatch = async (id: string, token?: string) => {
  const res = await h.call('GET', `/v1/batches/${id}`, { token });
  return { status: res.status, body: await res.json() };
};
const content = async (fileId: string) => (await h.call('GET', `/v1/files/${fileId}/content`)).text();
const jsonl = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

/** FAKE runner step: claim the job and write the given results over the runner protocol. */
async function fakeRun(results: Array<ReturnType<typeof okResult>>, finish: 'complete' | null = 'complete') {
  const claim = await h.runner('/claim', { runner_id: 'fake-runner' });
  expect(claim.status).toBe(200);
  const { job, lease } = claim.body;
  if (results.length > 0) expect((await h.runner(`/jobs/${job.id}/results`, { lease_token: lease.lease_token, results })).status).toBe(200);
  if (finish) expect((await h.runner(`/jobs/${job.id}/complete`, { lease_token: lease.lease_token })).status).toBe(200);
  return { jobId: job.id as string, lease: lease.lease_token as string };
}

describe('files', () => {
  it('uploads a JSONL file, returns OpenAI’s file object, and serves the content back', async () => {
    const up = await upload([chatLine('a'), chatLine('b')]);
    expect(up.status).toBe(200);
    expect(up.body).toEqual({
      id: expect.stringMatching(/^file-[0-9a-f]{24}$/),
      object: 'file',
      bytes: new TextEncoder().encode(up.text).length,
      created_at: Math.floor(h.now() / 1000),
      filename: 'input.jsonl',
      purpose: 'batch',
      status: 'processed',
      expires_at: Math.floor(h.now() / 1000) + 30 * 24 * 3600, // OpenAI's default for purpose batch
      status_details: null,
    });
    expect((await h.call('GET', `/v1/files/${up.body.id}`)).status).toBe(200);
    expect(await content(up.body.id)).toBe(up.text);
    const list = await (await h.call('GET', '/v1/files')).json();
    expect(list).toMatchObject({ object: 'list', data: [{ id: up.body.id }], first_id: up.body.id, last_id: up.body.id, has_more: false });
    expect((await h.call('GET', `/v1/files/${up.body.id}`, { token: h.keyB })).status).toBe(404);
  });

  it('refuses a non-batch purpose, accepts any UTF-8 text (lines are checked by the batch), keeps large files intact across chunks', async () => {
    const form = new FormData();
    form.set('purpose', 'fine-tune');
    form.set('file', new File(['{}\n'], 'x.jsonl'));
    const bad = await h.app.request('/v1/files', { method: 'POST', body: form, headers: { authorization: `Bearer ${h.keyA}` } });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatchObject({ param: 'purpose', code: 'invalid_purpose' });
    // Invalid JSONL is accepted at upload and fails the batch that uses it, naming the line (as OpenAI does).
    const notJson = await upload(`${JSON.stringify(chatLine('a'))}\nnot json\n[1]\n`);
    expect(notJson.status).toBe(200);
    const failed = await createBatch(notJson.body.id);
    expect(failed.body).toMatchObject({ status: 'failed', job_id: null });
    expect(failed.body.errors.data).toEqual([expect.objectContaining({ code: 'invalid_json_line', line: 2 }), expect.objectContaining({ line: 3 })]);
    // 600 KiB with multi-byte characters spans three stored chunks and must come back byte-identical.
    const big = Array.from({ length: 2000 }, (_, i) => chatLine(`r${i}`, { messages: [{ role: 'user', content: `é你好 ${'x'.repeat(280)} ${i}` }] }));
    const up = await upload(big);
    expect(up.status).toBe(200);
    expect(up.body.bytes).toBeGreaterThan(600_000);
    expect(await content(up.body.id)).toBe(up.text);
  });
});

describe('file expiry and deletion', () => {
  const uploadWith = async (fields: Record<string, string>) => {
    const form = new FormData();
    form.set('purpose', 'batch');
    for (const [k, v] of Object.entries(fields)) form.set(k, v);
    form.set('file', new File([`${JSON.stringify(chatLine('a'))}\n`], 'in.jsonl'));
    const res = await h.app.request('/v1/files', { method: 'POST', body: form, headers: { authorization: `Bearer ${h.keyA}` } });
    return { status: res.status, body: await res.json() };
  };

  it('takes expires_after on upload, hides an expired file at once and purges it in the sweep', async () => {
    const t0 = Math.floor(h.now() / 1000);
    const up = await uploadWith({ 'expires_after[anchor]': 'created_at', 'expires_after[seconds]': '3600' });
    expect(up.body).toMatchObject({ created_at: t0, expires_at: t0 + 3600 });
    const json = await uploadWith({ expires_after: JSON.stringify({ anchor: 'created_at', seconds: 7200 }) });
    expect(json.body.expires_at).toBe(t0 + 7200);
    for (const [fields, param] of [
      [{ 'expires_after[anchor]': 'created_at', 'expires_after[seconds]': '60' }, 'expires_after.seconds'],
      [{ 'expires_after[anchor]': 'last_active_at', 'expires_after[seconds]': '3600' }, 'expires_after.anchor'],
    ] as const) {
      const bad = await uploadWith(fields);
      expect(bad.status).toBe(400);
      expect(bad.body.error).toMatchObject({ type: 'invalid_request_error', param });
    }
    h.advance(3600_000);
    expect((await h.call('GET', `/v1/files/${up.body.id}`)).status).toBe(404); // expired: gone before any sweep
    expect((await (await h.call('GET', '/v1/files')).json()).data.map((f: { id: string }) => f.id)).not.toContain(up.body.id);
    expect(await h.store.purgeExpiredFiles()).toBe(1);
    expect(h.sqlDb.sqlite.prepare('SELECT COUNT(*) AS n FROM file_chunks WHERE file_id = ?').get(up.body.id)).toEqual({ n: 0 });
    expect(await h.store.purgeExpiredFiles()).toBe(0);
    expect((await h.call('GET', `/v1/files/${json.body.id}`)).status).toBe(200);
  });

  it('deletes a file (OpenAI’s deleted object; 404 after, and for another tenant)', async () => {
    const up = await upload([chatLine('a')]);
    expect((await h.call('DELETE', `/v1/files/${up.body.id}`, { token: h.keyB })).status).toBe(404);
    const del = await h.call('DELETE', `/v1/files/${up.body.id}`);
    expect(await del.json()).toEqual({ id: up.body.id, object: 'file', deleted: true });
    expect((await h.call('GET', `/v1/files/${up.body.id}`)).status).toBe(404);
    expect((await h.call('GET', `/v1/files/${up.body.id}/content`)).status).toBe(404);
    const again = await h.call('DELETE', `/v1/files/${up.body.id}`);
    expect(again.status).toBe(404);
    expect((await again.json()).error).toMatchObject({ type: 'not_found_error', code: 'file_not_found' });
  });

  it('gives batch output files the expiry of output_expires_after', async () => {
    const up = await upload([chatLine('a')]);
    const created = await createBatch(up.body.id, { output_expires_after: { anchor: 'created_at', seconds: 86_400 } });
    expect(created.status).toBe(200);
    await fakeRun([okResult('a')]);
    h.advance(1000);
    const done = (await getBatch(created.body.id)).body;
    expect(done.status).toBe('completed');
    const out = await (await h.call('GET', `/v1/files/${done.output_file_id}`)).json();
    expect(out.expires_at).toBe(out.created_at + 86_400);
    const bad = await createBatch(up.body.id, { output_expires_after: { anchor: 'created_at', seconds: 3_000_000 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.param).toBe('output_expires_after.seconds');
  });
});

describe('OpenAI error types', () => {
  it('names errors on the OpenAI routes as OpenAI does, whichever layer answers', async () => {
    const type = async (res: Response) => (await res.json()).error;
    expect(await type(await h.call('GET', '/v1/batches', { token: null }))).toMatchObject({ type: 'authentication_error', code: 'unauthorized' });
    expect(await type(await h.call('GET', '/v1/files/file-nope'))).toMatchObject({ type: 'not_found_error', code: 'file_not_found', param: 'file_id' });
    expect(await type(await h.call('GET', '/v1/batches/batch_nope'))).toMatchObject({ type: 'not_found_error' });
    expect(await type(await h.call('POST', '/v1/batches', { raw: '{' }))).toMatchObject({ type: 'invalid_request_error', param: 'body' });
    expect(await type(await h.call('POST', '/v1/batches', { body: { endpoint: '/v1/embeddings' } }))).toMatchObject({ type: 'invalid_request_error' });
    // Our own routes keep their types.
    expect(await type(await h.call('GET', '/v1/jobs/job_nope'))).toMatchObject({ type: 'not_found' });
  });

  it('says rate_limit_error on a 429', async () => {
    const limited = await makeHarness({ limits: { rateLimitPerSecond: 1, rateLimitBurst: 1 } });
    await limited.call('GET', '/v1/files', { token: limited.keyA });
    const res = await limited.call('GET', '/v1/files', { token: limited.keyA });
    expect(res.status).toBe(429);
    expect((await res.json()).error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limited' });
    limited.close();
  });
});

describe('batches', () => {
  it('runs validating -> in_progress -> completed with output and error files in OpenAI’s format', async () => {
    const up = await upload([chatLine('q1', { n: 2, compression: { method: 'dms', ratio: 4 } }), chatLine('q2'), chatLine('q3')]);
    const created = await createBatch(up.body.id, { metadata: { team: 'eval' } });
    expect(created.status).toBe(200);
    const b = created.body;
    expect(b).toMatchObject({
      object: 'batch',
      endpoint: '/v1/chat/completions',
      model: 'reasoner',
      errors: null,
      input_file_id: up.body.id,
      completion_window: '24h',
      status: 'in_progress',
      output_file_id: null,
      error_file_id: null,
      request_counts: { total: 3, completed: 0, failed: 0 },
      metadata: { team: 'eval' },
      expires_at: b.created_at + 24 * 3600,
    });
    const job = (await h.getJob(b.job_id)).body;
    expect(job).toMatchObject({ status: 'queued', metadata: { openai_batch_id: b.id }, request_counts: { total: 3 } });

    // The claim hands the runner resolved params from the line bodies.
    const claim = await h.runner('/claim', { runner_id: 'fake-runner' });
    expect(claim.body.requests[0]).toMatchObject({
      custom_id: 'q1',
      prompt: 'Q:q1=',
      params: { n: 2, max_tokens: 32, compression: { method: 'dms', ratio: 4 } },
    });
    const lease = claim.body.lease.lease_token;
    const failed = {
      ...okResult('q3'),
      status: 'failed' as const,
      answer: null,
      threads: [],
      usage: null,
      error: { code: 'engine_error', message: 'out of memory' },
    };
    await h.runner(`/jobs/${b.job_id}/results`, { lease_token: lease, results: [okResult('q1', '6'), okResult('q2', '7'), failed] });
    expect((await getBatch(b.id)).body).toMatchObject({ status: 'in_progress', request_counts: { total: 3, completed: 2, failed: 1 } });
    await h.runner(`/jobs/${b.job_id}/complete`, { lease_token: lease });

    h.advance(5000);
    const done = (await getBatch(b.id)).body;
    expect(done).toMatchObject({ status: 'completed', request_counts: { total: 3, completed: 2, failed: 1 }, errors: null });
    expect(done.finalizing_at).toBe(done.completed_at);
    expect(done.usage).toMatchObject({ input_tokens: 14, output_tokens: 44, total_tokens: 58, kv_token_reads: 2000 });
    const out = await content(done.output_file_id);
    const lines = jsonl(out);
    expect(lines.map((l) => l.custom_id)).toEqual(['q1', 'q2']);
    expect(lines[0]).toEqual({
      id: expect.stringMatching(/^batch_req_/),
      custom_id: 'q1',
      response: {
        status_code: 200,
        request_id: expect.stringMatching(/^req_/),
        body: {
          id: expect.stringMatching(/^chatcmpl-/),
          object: 'chat.completion',
          created: expect.any(Number),
          model: 'reasoner',
          choices: [
            { index: 0, message: { role: 'assistant', content: 'work... A:6', refusal: null }, logprobs: null, finish_reason: 'stop', answer: '6' },
            { index: 1, message: { role: 'assistant', content: 'work... A:6', refusal: null }, logprobs: null, finish_reason: 'stop', answer: '6' },
          ],
          usage: expect.objectContaining({ prompt_tokens: 7, completion_tokens: 22, total_tokens: 29, kv_token_reads: 1000, peak_kv_tokens: 160, cost: 0.001 }),
          system_fingerprint: null,
          answer: '6',
          correct: null,
          n: 2,
          compression: { method: 'dms', ratio: 4 },
          timings: { ttft_ms: 5, prefill_ms: 4, decode_ms: 90, total_ms: 100 },
          backend: 'wasm',
        },
      },
      error: null,
    });
    const errLines = jsonl(await content(done.error_file_id));
    expect(errLines).toEqual([
      {
        id: expect.stringMatching(/^batch_req_/),
        custom_id: 'q3',
        response: {
          status_code: 500,
          request_id: expect.any(String),
          body: { error: { message: 'out of memory', type: 'server_error', param: null, code: 'engine_error' }, usage: null },
        },
        error: null,
      },
    ]);
    // The file objects' sizes match what is served, and renders are stable.
    const outFile = await (await h.call('GET', `/v1/files/${done.output_file_id}`)).json();
    expect(outFile).toMatchObject({ purpose: 'batch_output', bytes: new TextEncoder().encode(out).length });
    expect(await content(done.output_file_id)).toBe(out);
    expect((await getBatch(b.id)).body).toEqual(done);
    expect((await getBatch(b.id, h.keyB)).status).toBe(404);
  });

  it('fails validation with OpenAI-style line errors and submits nothing', async () => {
    const lines = [
      chatLine('ok'),
      { ...chatLine('wrong-url'), url: '/v1/completions' },
      chatLine('tools', { tools: [{ type: 'function', function: { name: 'f' } }] }), // an empty list would be fine
      chatLine('other-model', { model: 'tiny' }),
      chatLine('ok'),
      chatLine('ratio', { compression: { method: 'dms', ratio: 3 } }),
      chatLine('long', { max_tokens: 5000 }),
    ];
    const up = await upload(lines);
    const b = (await createBatch(up.body.id)).body;
    expect(b).toMatchObject({ status: 'failed', job_id: null, request_counts: { total: 0, completed: 0, failed: 0 } });
    expect(b.failed_at).toBe(b.created_at);
    expect(b.errors.object).toBe('list');
    expect(b.errors.data).toEqual([
      expect.objectContaining({ code: 'mismatched_endpoint', line: 2, param: 'url' }),
      expect.objectContaining({ code: 'unsupported_parameter', line: 3, param: 'body.tools' }),
      expect.objectContaining({ code: 'mismatched_model', line: 4, param: 'body.model' }),
    ]);
    // Once the framing is right, the catalog checks name the line and the body field.
    const second = await upload([
      chatLine('a'),
      chatLine('a'),
      chatLine('ratio', { compression: { method: 'dms', ratio: 3 } }),
      chatLine('long', { max_tokens: 5000 }),
    ]);
    const b2 = (await createBatch(second.body.id)).body;
    expect(b2.status).toBe('failed');
    expect(b2.errors.data).toEqual([
      expect.objectContaining({ code: 'duplicate_custom_id', line: 2, param: 'custom_id' }),
      expect.objectContaining({ line: 3, param: 'body.compression.ratio', message: expect.stringMatching(/available ratios: 2, 4, 8/) }),
      expect.objectContaining({ line: 4, param: 'body.max_tokens' }),
    ]);
    expect((await h.call('GET', '/v1/jobs')).status).toBe(200);
    expect((await (await h.call('GET', '/v1/jobs')).json()).data).toEqual([]);
  });

  it('serves /v1/completions as text_completion bodies', async () => {
    const line = { custom_id: 'c1', method: 'POST', url: '/v1/completions', body: { model: 'reasoner', prompt: 'Q:1+1=', max_tokens: 8, temperature: 0 } };
    const up = await upload([line]);
    const b = (await createBatch(up.body.id, { endpoint: '/v1/completions' })).body;
    expect(b.status).toBe('in_progress');
    await fakeRun([okResult('c1', '2')]);
    const done = (await getBatch(b.id)).body;
    const [out] = jsonl(await content(done.output_file_id));
    expect(out.response.body).toMatchObject({
      object: 'text_completion',
      choices: [{ index: 0, text: 'work... A:2', logprobs: null, finish_reason: 'stop' }, { index: 1 }],
    });
    expect(done.error_file_id).toBeNull();
  });

  it('cancels a queued batch at once and a running one through cancelling', async () => {
    const queued = (await createBatch((await upload([chatLine('a'), chatLine('b')])).body.id)).body;
    const running = (await createBatch((await upload([chatLine('x'), chatLine('y')])).body.id)).body;

    const c1 = await h.call('POST', `/v1/batches/${queued.id}/cancel`);
    expect(c1.status).toBe(200);
    const q = await c1.json();
    expect(q).toMatchObject({ status: 'cancelled', output_file_id: null, request_counts: { total: 2, completed: 0, failed: 0 } });
    expect(q.cancelling_at).toBe(q.cancelled_at);
    expect(jsonl(await content(q.error_file_id)).map((l) => [l.custom_id, l.response, l.error.code])).toEqual([
      ['a', null, 'batch_cancelled'],
      ['b', null, 'batch_cancelled'],
    ]);
    expect((await h.call('POST', `/v1/batches/${queued.id}/cancel`)).status).toBe(409);

    const { jobId, lease } = await fakeRun([okResult('x')], null);
    expect(jobId).toBe(running.job_id);
    const c2 = await (await h.call('POST', `/v1/batches/${running.id}/cancel`)).json();
    expect(c2).toMatchObject({ status: 'cancelling', cancelled_at: null });
    expect((await getBatch(running.id)).body.status).toBe('cancelling');
    expect((await h.runner(`/jobs/${jobId}/heartbeat`, { lease_token: lease })).body.cancel_requested).toBe(true);
    await h.runner(`/jobs/${jobId}/complete`, { lease_token: lease });
    const done = (await getBatch(running.id)).body;
    expect(done).toMatchObject({ status: 'cancelled', request_counts: { total: 2, completed: 1, failed: 0 } });
    expect(jsonl(await content(done.output_file_id)).map((l) => l.custom_id)).toEqual(['x']);
    expect(jsonl(await content(done.error_file_id)).map((l) => l.error.code)).toEqual(['batch_cancelled']);
  });

  it('expires a batch whose completion window passed, keeping finished results', async () => {
    h.close();
    h = await makeHarness({ store: { leaseMs: 2 * 3_600_000 } }); // the runner's lease outlives the window
    const b = (await createBatch((await upload([chatLine('a'), chatLine('b')])).body.id, { completion_window: '1h' })).body;
    const { jobId, lease } = await fakeRun([okResult('a')], null);
    h.advance(3_600_000);
    expect((await getBatch(b.id)).body.status).toBe('in_progress'); // the job winds down first
    expect((await h.runner(`/jobs/${jobId}/heartbeat`, { lease_token: lease })).body.cancel_requested).toBe(true);
    await h.runner(`/jobs/${jobId}/complete`, { lease_token: lease });
    const done = (await getBatch(b.id)).body;
    expect(done).toMatchObject({ status: 'expired', request_counts: { completed: 1 } });
    expect(done.expired_at).toBeGreaterThanOrEqual(done.expires_at);
    expect(jsonl(await content(done.error_file_id))).toEqual([
      expect.objectContaining({ custom_id: 'b', response: null, error: expect.objectContaining({ code: 'batch_expired' }) }),
    ]);
  });

  it('lists batches newest first with after-cursor paging', async () => {
    const file = (await upload([chatLine('a')])).body.id;
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await createBatch(file)).body.id);
    const p1 = await (await h.call('GET', '/v1/batches?limit=2')).json();
    expect(p1).toMatchObject({ object: 'list', has_more: true, first_id: ids[2], last_id: ids[1] });
    const p2 = await (await h.call('GET', `/v1/batches?limit=2&after=${p1.last_id}`)).json();
    expect(p2).toMatchObject({ has_more: false, data: [{ id: ids[0] }] });
    const bad = await h.call('POST', '/v1/batches', { body: { input_file_id: file, endpoint: '/v1/embeddings', completion_window: '24h' } });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatchObject({ param: 'endpoint', code: 'unsupported_endpoint' });
    expect((await h.call('POST', '/v1/batches', { body: { input_file_id: 'file-nope', endpoint: '/v1/completions', completion_window: '24h' } })).status).toBe(
      404,
    );
  });
});

// The official `openai` npm client against the Node gateway on loopback: upload, create, poll,
// download, list and cancel; a remote runner (HTTP protocol, real engine on tiny random weights) runs it.
import { serve, type ServerType } from '@hono/node-server';
import { rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import OpenAI, { NotFoundError, toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBetterSqlite } from '../../db/better-sqlite-db.js';
import { createJobStore } from '../../db/job-store.js';
import { createApp } from '../../gateway/app.js';
import { loadModelCatalog } from '../../gateway/model-catalog.js';
import { EngineExecutor } from '../../gpu-runner/engine-executor.js';
import { HttpJobSource } from '../../gpu-runner/http-source.js';
import { ModelRegistry } from '../../gpu-runner/model-registry.js';
import { RunnerLoop } from '../../gpu-runner/runner-loop.js';
import { writeTinyModels } from '../runner-processes/tiny-models.js';

const RUNNER_TOKEN = 'openai-test-runner-token';
let modelsDir: string;
let server: ServerType;
let base: string;
let client: OpenAI;
let runner: RunnerLoop;
const sqlDb = openBetterSqlite(':memory:');

beforeAll(async () => {
  modelsDir = await writeTinyModels();
  const store = createJobStore(sqlDb);
  await store.ensureTenant('acme');
  const key = await store.createApiKey('acme');
  const app = createApp({ store, models: await loadModelCatalog(modelsDir), auth: { runnerTokens: [RUNNER_TOKEN] } });
  server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  client = new OpenAI({ apiKey: key, baseURL: `${base}/v1`, maxRetries: 0, timeout: 10_000 });
  const executor = await EngineExecutor.create(new ModelRegistry(modelsDir));
  runner = new RunnerLoop(new HttpJobSource({ baseUrl: base, token: RUNNER_TOKEN }), executor, {
    runnerId: 'openai-test',
    heartbeatMs: 200,
    pollMinMs: 20,
    pollMaxMs: 100,
    log: () => {},
  });
});

afterAll(async () => {
  await runner?.stop();
  await new Promise((resolve) => server?.close(resolve));
  sqlDb.close();
  rmSync(modelsDir, { recursive: true, force: true });
});

const line = (id: string, body: Record<string, unknown>) => ({ custom_id: id, method: 'POST', url: '/v1/chat/completions', body: { model: 'tiny', ...body } });
const asJsonl = (lines: unknown[]) => `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`;

async function pollUntil(id: string, done: (b: OpenAI.Batches.Batch) => boolean, timeoutMs = 60_000): Promise<OpenAI.Batches.Batch> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const batch = await client.batches.retrieve(id);
    if (done(batch)) return batch;
    if (Date.now() > deadline) throw new Error(`batch ${id} still ${batch.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('openai npm client', () => {
  it('uploads, creates, polls and downloads a chat-completions batch run by the engine', async () => {
    const input = asJsonl([
      line('vote', { messages: [{ role: 'user', content: 'C1:a3b7=' }], max_tokens: 12, temperature: 0.9, seed: 1, n: 3 }),
      line('dms', {
        messages: [
          { role: 'system', content: 'C1:' },
          { role: 'user', content: 'a3b7=' },
        ],
        max_completion_tokens: 10,
        temperature: 0,
        compression: { method: 'dms', ratio: 4 },
      }),
    ]);
    const file = await client.files.create({ file: await toFile(Buffer.from(input), 'batch.jsonl'), purpose: 'batch' });
    expect(file).toMatchObject({ object: 'file', purpose: 'batch', bytes: Buffer.byteLength(input), filename: 'batch.jsonl', status: 'processed' });
    expect(await (await client.files.content(file.id)).text()).toBe(input);

    const created = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      metadata: { run: 'client-test' },
    });
    expect(created).toMatchObject({
      object: 'batch',
      status: 'in_progress',
      request_counts: { total: 2, completed: 0, failed: 0 },
      metadata: { run: 'client-test' },
    });

    runner.start();
    const done = await pollUntil(created.id, (b) => b.status === 'completed');
    expect(done.request_counts).toEqual({ total: 2, completed: 2, failed: 0 });
    expect(done.error_file_id).toBeNull();
    expect(done.usage).toMatchObject({ input_tokens: expect.any(Number), output_tokens: expect.any(Number) });
    expect(done.usage!.total_tokens).toBe(done.usage!.input_tokens + done.usage!.output_tokens);

    const outText = await (await client.files.content(done.output_file_id!)).text();
    expect((await client.files.retrieve(done.output_file_id!)).bytes).toBe(Buffer.byteLength(outText));
    const out = Object.fromEntries(
      outText
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .map((l) => [l.custom_id, l]),
    );
    const vote = out.vote.response;
    expect(vote.status_code).toBe(200);
    expect(vote.body).toMatchObject({ object: 'chat.completion', model: 'tiny', n: 3, compression: { method: 'none', ratio: 1 }, backend: expect.any(String) });
    expect(vote.body.choices).toHaveLength(3);
    for (const choice of vote.body.choices) {
      expect(choice.message.role).toBe('assistant');
      expect(typeof choice.message.content).toBe('string');
      expect(['stop', 'length']).toContain(choice.finish_reason);
    }
    const usage = vote.body.usage;
    // The prompt "C1:a3b7=" is 8 bytes plus BOS on the byte-level tokenizer; threads sum into completion_tokens.
    expect(usage.prompt_tokens).toBe(9);
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
    expect(usage.kv_token_reads).toBeGreaterThan(0);
    expect(usage.peak_kv_tokens).toBeGreaterThan(0);
    expect(vote.body.timings.total_ms).toBeGreaterThan(0);
    const dms = out.dms.response.body;
    expect(dms.compression).toEqual({ method: 'dms', ratio: 4 });
    expect(dms.choices).toHaveLength(1);
    expect(dms.usage.prompt_tokens).toBe(6); // the shipped chat template leaves the system turn out: "a3b7=" is 5 bytes plus BOS
  });

  it('runs a /v1/responses batch (input as text or messages, instructions, max_output_tokens) with Responses-format output', async () => {
    const responsesLine = (id: string, body: Record<string, unknown>) => ({
      custom_id: id,
      method: 'POST',
      url: '/v1/responses',
      body: { model: 'tiny', ...body },
    });
    const input = asJsonl([
      responsesLine('text', { input: 'C1:a3b7=', max_output_tokens: 12, temperature: 0 }),
      responsesLine('messages', {
        instructions: 'C1:',
        input: [{ role: 'user', content: [{ type: 'input_text', text: 'a3b7=' }] }],
        max_output_tokens: 6,
        temperature: 0,
        text: { format: { type: 'text' } },
        compression: { method: 'dms', ratio: 4 },
      }),
    ]);
    const file = await client.files.create({ file: await toFile(Buffer.from(input), 'responses.jsonl'), purpose: 'batch' });
    const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/responses', completion_window: '24h' });
    expect(created.status).toBe('in_progress');
    const done = await pollUntil(created.id, (b) => b.status === 'completed');
    expect(done.request_counts).toEqual({ total: 2, completed: 2, failed: 0 });
    const usage = done.usage as OpenAI.Batches.BatchUsage & Record<string, number>;
    expect(usage.total_tokens).toBe(usage.input_tokens + usage.output_tokens);
    // "C1:a3b7=" as is (a bare string input), and the messages line through the shipped chat template,
    // which leaves the instructions' system turn out: "a3b7=" (5 bytes); plus BOS each.
    expect(usage.input_tokens).toBe(9 + 6);
    expect(usage).toMatchObject({ input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 } });
    expect(usage.kv_token_reads).toBeGreaterThan(0);
    expect(usage.peak_kv_tokens).toBeGreaterThan(0);

    const lines = (await (await client.files.content(done.output_file_id!)).text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const byId = Object.fromEntries(lines.map((l) => [l.custom_id, l.response.body as OpenAI.Responses.Response & Record<string, unknown>]));
    for (const [id, maxTokens] of [
      ['text', 12],
      ['messages', 6],
    ] as const) {
      const r = byId[id];
      expect(r).toMatchObject({ object: 'response', model: 'tiny', max_output_tokens: maxTokens, error: null, tools: [], temperature: 0 });
      expect(r.id).toMatch(/^resp_/);
      expect(['completed', 'incomplete']).toContain(r.status);
      expect(r.incomplete_details).toEqual(r.status === 'incomplete' ? { reason: 'max_output_tokens' } : null);
      expect(r.output).toHaveLength(1);
      const message = r.output[0] as OpenAI.Responses.ResponseOutputMessage;
      expect(message).toMatchObject({ type: 'message', role: 'assistant', id: expect.stringMatching(/^msg_/) });
      expect(message.content[0]).toMatchObject({ type: 'output_text', annotations: [] });
      const usage = r.usage as OpenAI.Responses.ResponseUsage & Record<string, number>;
      expect(usage.total_tokens).toBe(usage.input_tokens + usage.output_tokens);
      expect(usage.output_tokens).toBeLessThanOrEqual(maxTokens);
      expect(usage.kv_token_reads).toBeGreaterThan(0);
    }
    expect(byId.messages.compression).toEqual({ method: 'dms', ratio: 4 });
    expect((byId.messages.usage as OpenAI.Responses.ResponseUsage).input_tokens).toBe(6); // the system turn (instructions) is not read by the shipped template

    // A chat-only parameter on a Responses line fails the batch, naming the line and the parameter.
    const bad = await client.files.create({
      file: await toFile(Buffer.from(asJsonl([responsesLine('x', { input: 'Q:1=', max_completion_tokens: 4 })])), 'bad.jsonl'),
      purpose: 'batch',
    });
    const failed = await client.batches.create({ input_file_id: bad.id, endpoint: '/v1/responses', completion_window: '24h' });
    expect(failed.status).toBe('failed');
    expect(failed.errors?.data).toEqual([expect.objectContaining({ line: 1, param: 'body.max_completion_tokens' })]);
  });

  it('lists and retrieves models, uploads with expires_after, deletes a file', async () => {
    const models: OpenAI.Models.Model[] = [];
    for await (const m of client.models.list()) models.push(m);
    expect(models.map((m) => m.id)).toEqual(['tiny']);
    expect(await client.models.retrieve('tiny')).toMatchObject({ id: 'tiny', object: 'model', owned_by: 'dms-batch', created: expect.any(Number) });
    await expect(client.models.retrieve('gpt-5')).rejects.toBeInstanceOf(NotFoundError);
    const file = await client.files.create({
      file: await toFile(Buffer.from(asJsonl([line('x', { messages: [{ role: 'user', content: 'Q:1=' }] })])), 'expiring.jsonl'),
      purpose: 'batch',
      expires_after: { anchor: 'created_at', seconds: 3600 },
    });
    expect(file.expires_at).toBe(file.created_at + 3600);
    expect(await client.files.delete(file.id)).toEqual({ id: file.id, object: 'file', deleted: true });
    await expect(client.files.retrieve(file.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('lists batches with the client’s pager and cancels a queued batch', async () => {
    await runner.stop(); // nothing claims from here on, so the next batch stays queued
    const input = asJsonl([
      line('a', { messages: [{ role: 'user', content: 'Q:1=' }], max_tokens: 4 }),
      line('b', { messages: [{ role: 'user', content: 'Q:2=' }], max_tokens: 4 }),
    ]);
    const file = await client.files.create({ file: await toFile(Buffer.from(input), 'cancel.jsonl'), purpose: 'batch' });
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    const cancelled = await client.batches.cancel(batch.id);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.cancelled_at).toEqual(expect.any(Number));
    const errors = (await (await client.files.content(cancelled.error_file_id!)).text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(errors.map((e) => [e.custom_id, e.error.code])).toEqual([
      ['a', 'batch_cancelled'],
      ['b', 'batch_cancelled'],
    ]);

    const seen: string[] = [];
    for await (const b of client.batches.list({ limit: 1 })) seen.push(b.id);
    expect(seen).toHaveLength(4); // this one, the responses batch, its failed sibling, the chat batch
    expect(seen[0]).toBe(batch.id);
    await expect(client.batches.retrieve('batch_missing')).rejects.toBeInstanceOf(NotFoundError);
  });
});

// The console's data handling, without a browser: JSONL files (native and OpenAI lines), both
// /v1/models shapes, result fields old and new (method, requested_ratio, correct, accuracy), progress and ETA.
import { describe, expect, it } from 'vitest';
import { progress } from '../../web/src/format.js';
import { accuracy, joinRows, requestedRatios } from '../../web/src/job-rows.js';
import { parseJsonl } from '../../web/src/jsonl.js';
import { normalizeModels } from '../../web/src/models.js';
import type { Job, ResultLine } from '../../web/src/types.js';

const job = (over: Partial<Job> = {}): Job => ({
  id: 'job_1',
  model: 'reasoner',
  status: 'running',
  created_at: '2026-01-01T00:00:00.000Z',
  started_at: '2026-01-01T00:00:10.000Z',
  request_counts: { total: 10, queued: 0, running: 6, succeeded: 3, failed: 1, canceled: 0 },
  usage: { completion_tokens: 2000 },
  defaults: { compression: { method: 'dms', ratio: 4 } },
  ...over,
});

describe('parseJsonl', () => {
  it('reads native and OpenAI batch lines and names bad lines', () => {
    const text = [
      JSON.stringify({ custom_id: 'a', prompt: 'Q:1=', params: { n: 2 } }),
      '',
      JSON.stringify({
        custom_id: 'b',
        method: 'POST',
        url: '/v1/chat/completions',
        body: { model: 'reasoner', messages: [{ role: 'user', content: 'Q:2=' }], max_completion_tokens: 9 },
      }),
      '{oops',
      JSON.stringify({ custom_id: '', prompt: 'x' }),
      JSON.stringify({ custom_id: 'c' }),
    ].join('\n');
    const parsed = parseJsonl(text);
    expect(parsed.requests).toEqual([
      { custom_id: 'a', prompt: 'Q:1=', params: { n: 2 } },
      { custom_id: 'b', prompt: 'Q:2=', params: { max_tokens: 9 } },
    ]);
    expect(parsed.model).toBe('reasoner');
    expect(parsed.errors).toEqual([
      expect.stringMatching(/^line 4: not JSON/),
      'line 5: custom_id must be a non-empty string',
      'line 6: prompt must be a non-empty string',
    ]);
    expect(parseJsonl('\n\n').errors).toEqual(['the file holds no requests']);
  });
});

describe('normalizeModels', () => {
  it('reads the catalog shape', () => {
    const models = normalizeModels({
      defaultModel: 'reasoner',
      models: [{ name: 'reasoner', contextLength: 1024, methods: ['none', 'dms'], dmsRatios: [2, 4] }],
    });
    expect(models).toEqual([
      expect.objectContaining({
        name: 'reasoner',
        isDefault: true,
        context: 1024,
        methods: ['none', 'dms'],
        dmsRatios: [2, 4],
        architecture: null,
        window: null,
      }),
    ]);
  });

  it("reads OpenAI's list shape with the descriptive fields", () => {
    const models = normalizeModels({
      object: 'list',
      data: [
        {
          id: 'reasoner',
          object: 'model',
          architecture: 'LlamaForCausalLM',
          parameters: 1050000,
          dtype: 'f32',
          context: 1024,
          methods: ['none', 'dms'],
          ratios: [2, 4, 8],
          window: 16,
          backend: 'wasm',
        },
      ],
    });
    expect(models[0]).toMatchObject({
      name: 'reasoner',
      architecture: 'LlamaForCausalLM',
      parameters: 1050000,
      dtype: 'f32',
      context: 1024,
      dmsRatios: [2, 4, 8],
      window: 16,
      backend: 'wasm',
    });
    expect(normalizeModels(null)).toEqual([]);
  });
});

describe('job rows', () => {
  it('take method and ratio from the result, then the params, then the job defaults', () => {
    const results: ResultLine[] = [
      { custom_id: 'a', status: 'succeeded', answer: '1', method: 'tova', requested_ratio: 2, correct: true },
      { custom_id: 'b', status: 'succeeded', answer: '2', correct: false },
      { custom_id: 'c', status: 'succeeded', answer: '3' },
    ];
    const requests = [
      { custom_id: 'a', prompt: 'pa', status: 'succeeded' },
      { custom_id: 'b', prompt: 'pb', status: 'succeeded', params: { compression: { method: 'none', ratio: 1 } } },
      { custom_id: 'c', prompt: 'pc', status: 'succeeded' },
      { custom_id: 'd', prompt: 'pd', status: 'pending' },
    ];
    const rows = joinRows(job(), requests, results);
    expect(rows.map((r) => [r.customId, r.prompt, r.method, r.requestedRatio, r.status])).toEqual([
      ['a', 'pa', 'tova', 2, 'succeeded'],
      ['b', 'pb', 'none', 1, 'succeeded'],
      ['c', 'pc', 'dms', 4, 'succeeded'],
      ['d', 'pd', 'dms', 4, 'pending'],
    ]);
    expect(requestedRatios(rows)).toBe('1, 2, 4');
    expect(accuracy(job(), results)).toEqual({ value: 0.5, graded: 2 });
    expect(accuracy(job({ accuracy: 0.9 }), results)).toEqual({ value: 0.9, graded: 2 });
    expect(accuracy(job(), [results[2]])).toBeNull();
    // Without the requests route (an older gateway), rows come from the results alone.
    expect(joinRows(job(), [], results).map((r) => [r.customId, r.prompt])).toEqual([
      ['a', null],
      ['b', null],
      ['c', null],
    ]);
  });
});

describe('progress', () => {
  it('gives tokens per second and an ETA while running, and none once finished', () => {
    const now = Date.parse('2026-01-01T00:00:30.000Z');
    expect(progress(job(), now)).toEqual({ done: 4, total: 10, elapsedS: 20, tokensPerS: 100, etaS: 30 });
    const done = progress(job({ status: 'completed', completed_at: '2026-01-01T00:00:50.000Z' }), now + 60_000);
    expect(done).toMatchObject({ elapsedS: 40, tokensPerS: 50, etaS: null });
    expect(progress(job({ status: 'queued', started_at: null, usage: null }), now)).toMatchObject({ elapsedS: null, tokensPerS: null, etaS: null });
  });
});

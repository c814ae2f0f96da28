// Job usage derived from the usage-field table: sums, maxima and the token-weighted achieved ratio,
// the compression labels beside it (shared or null, with a breakdown when mixed), and graded accuracy.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RequestResultWrite } from '../../protocol/index.js';
import { openApiDocument } from '../../gateway/openapi.js';
import { COMPRESSION_LABELS, USAGE_FIELDS } from '../../protocol/usage-fields.js';
import { type Harness, makeHarness, okResult } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(() => h.close());

/** A result of the current runner version: the ratio's weight and the labels beside it. */
function result(
  customId: string,
  answer: string,
  ratio: number,
  retained: number,
  method = 'dms',
  requested = 4,
  window: number | null = 16,
): RequestResultWrite {
  const base = okResult(customId, answer);
  return { ...base, usage: { ...base.usage!, achieved_ratio: ratio, kv_tokens_retained: retained, method, requested_ratio: requested, window } };
}

async function runJob(requests: unknown[], results: RequestResultWrite[]) {
  const job = (await h.submit({ requests })).body;
  const claim = await h.runner('/claim', { runner_id: 'r' });
  expect(claim.status).toBe(200);
  const lease = claim.body.lease.lease_token;
  expect((await h.runner(`/jobs/${job.id}/results`, { lease_token: lease, results })).status).toBe(200);
  expect((await h.runner(`/jobs/${job.id}/complete`, { lease_token: lease })).status).toBe(200);
  return { view: (await h.getJob(job.id)).body, lines: (await h.results(job.id)).lines };
}

describe('job usage totals', () => {
  it('weights achieved_ratio by tokens retained (tokens seen / tokens retained over the job), sums and maxima by the table', async () => {
    const requests = [
      { custom_id: 'a', prompt: 'Q:1=', expected_answer: '6' },
      { custom_id: 'b', prompt: 'Q:2=', expected_answer: '5' },
      { custom_id: 'c', prompt: 'Q:3=' },
    ];
    // Seen tokens: 2 x 900 + 4 x 100 + 8 x 0 (no decode step: no weight) = 2200 over 1000 retained.
    const { view, lines } = await runJob(requests, [result('a', '6', 2, 900), result('b', '6', 4, 100), result('c', '1', 8, 0)]);
    expect(view.usage.achieved_ratio).toBeCloseTo(2200 / 1000, 12);
    expect(view.usage.achieved_ratio).not.toBeCloseTo((2 + 4 + 8) / 3, 2); // the plain mean the job used to report
    expect(view.usage).toMatchObject({ num_results: 3, kv_tokens_retained: 1000, prompt_tokens: 21, peak_kv_tokens: 160 });
    expect(view.usage).toMatchObject({ method: 'dms', requested_ratio: 4, window: 16, by_compression: null });
    // Graded: a right, b wrong; c carried no expected answer.
    expect(view.usage).toMatchObject({ num_graded: 2, num_correct: 1, accuracy: 0.5 });
    expect(lines.map((l) => [l.custom_id, l.expected_answer, l.correct])).toEqual([
      ['a', '6', true],
      ['b', '5', false],
      ['c', null, null],
    ]);
    expect(lines[0].usage).toMatchObject({ achieved_ratio: 2, kv_tokens_retained: 900, method: 'dms', requested_ratio: 4, window: 16 });
    for (const f of USAGE_FIELDS) expect(typeof view.usage[f.wire], f.wire).toBe('number');
  });

  it('mixed compressions: null labels on the job and one entry per (method, ratio, window) with its own ratio and accuracy', async () => {
    const requests = ['a', 'b', 'c'].map((id) => ({ custom_id: id, prompt: 'Q:1=', expected_answer: '6' }));
    const { view } = await runJob(requests, [result('a', '6', 3, 300), result('b', '6', 5, 100), result('c', '2', 1, 400, 'none', 1, null)]);
    expect(view.usage).toMatchObject({ method: null, requested_ratio: null, window: null, num_graded: 3, num_correct: 2 });
    expect(view.usage.achieved_ratio).toBeCloseTo((900 + 500 + 400) / 800, 12);
    const groups = Object.fromEntries(view.usage.by_compression.map((g: { method: string }) => [g.method, g]));
    expect(Object.keys(groups).sort()).toEqual(['dms', 'none']);
    expect(groups.dms).toMatchObject({ requested_ratio: 4, window: 16, num_results: 2, num_graded: 2, num_correct: 2, accuracy: 1, kv_tokens_retained: 400 });
    expect(groups.dms.achieved_ratio).toBeCloseTo(1400 / 400, 12);
    expect(groups.none).toMatchObject({ requested_ratio: 1, window: null, num_results: 1, accuracy: 0, achieved_ratio: 1 });
  });

  it('results of a runner that predates the weight and labels: plain mean, null labels', async () => {
    const a = okResult('a');
    const b = { ...okResult('b'), usage: { ...okResult('b').usage!, achieved_ratio: 1.5 } };
    const { view, lines } = await runJob(
      [
        { custom_id: 'a', prompt: 'Q:1=' },
        { custom_id: 'b', prompt: 'Q:2=' },
      ],
      [a, b],
    );
    expect(view.usage.achieved_ratio).toBeCloseTo((3.5 + 1.5) / 2, 12);
    expect(view.usage).toMatchObject({ method: null, window: null, num_graded: 0, accuracy: null });
    expect(lines[0].usage).toMatchObject({ kv_tokens_retained: 0, method: null, requested_ratio: null, window: null });
  });

  it('the OpenAPI document (generated from zod) lists every field of the table in results and job usage', () => {
    const schemas = (openApiDocument() as { components: { schemas: Record<string, { properties: Record<string, unknown> }> } }).components.schemas;
    const wire = [...USAGE_FIELDS.map((f) => f.wire), ...COMPRESSION_LABELS.map((l) => l.wire)];
    expect(Object.keys(schemas.Usage.properties)).toEqual(wire);
    for (const name of [...wire, 'accuracy', 'num_graded', 'by_compression']) expect(Object.keys(schemas.UsageTotals.properties)).toContain(name);
    expect(Object.keys(schemas.JobRequest.properties)).toContain('expected_answer');
    expect(Object.keys(schemas.RequestResult.properties)).toEqual(expect.arrayContaining(['expected_answer', 'correct']));
  });
});

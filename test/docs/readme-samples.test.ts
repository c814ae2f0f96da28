// The README's sample result lines are real: each parses as the wire schema and agrees with the
// example request it answers (prompt tokens, threads, votes, the suite's answer for that problem).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { estimatePromptTokens, RequestResultSchema, resolveParams } from '../../protocol/index.js';
import { extractAnswer, majorityAnswer, problemOfCustomId } from '../../tasks/index.js';

const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');

/** The first ```json block after `marker`. */
function jsonAfter(marker: string): unknown {
  const at = readme.indexOf(marker);
  expect(at, marker).toBeGreaterThan(-1);
  const start = readme.indexOf('```json\n', at) + '```json\n'.length;
  return JSON.parse(readme.slice(start, readme.indexOf('\n```', start)));
}

/** The body of the example `curl ... /v1/jobs -d '{...}'`. */
const example = JSON.parse(/localhost:8787\/v1\/jobs [^\n]*-d '(\{[\s\S]*?\})'/.exec(readme)![1]) as {
  defaults: Record<string, unknown>;
  requests: Array<{ custom_id: string; prompt: string; params?: Record<string, unknown> }>;
};

/** Checks threads, votes and token counts of a result against the request that produced it. */
function agrees(customId: string, texts: string[], answers: Array<string | null>, answer: string, usage: Record<string, unknown>) {
  const request = example.requests.find((r) => r.custom_id === customId)!;
  expect(request, `${customId} is a request of the example`).toBeDefined();
  const problem = problemOfCustomId(customId);
  expect(problem.prompt).toBe(request.prompt); // the custom_id names the suite problem it is
  expect(answer).toBe(problem.answer);
  expect(usage.prompt_tokens).toBe(estimatePromptTokens(request.prompt));
  expect(answers).toEqual(texts.map(extractAnswer));
  expect(majorityAnswer(texts)).toBe(answer);
  return { request, params: resolveParams(example.defaults as never, request.params as never) };
}

describe('README samples', () => {
  it('the results line answers the first example request', () => {
    const line = jsonAfter('A results line');
    const result = RequestResultSchema.parse(line);
    const { params } = agrees(
      result.custom_id,
      result.threads.map((t) => t.text),
      result.threads.map((t) => t.answer),
      result.answer!,
      result.usage!,
    );
    expect(result.threads).toHaveLength(params.n);
    expect(result.threads.reduce((sum, t) => sum + t.completion_tokens, 0)).toBe(result.usage!.completion_tokens);
    for (const t of result.threads) expect(t.completion_tokens).toBeLessThanOrEqual(params.max_tokens);
    expect(result.usage!.cost).toBeCloseTo((result.usage!.runner_seconds * 2.0) / 3600, 12); // the default price
  });

  it('the OpenAI output line is that problem as one chat line', () => {
    type Choice = { message: { content: string }; answer: string | null };
    type Body = { choices: Choice[]; answer: string; n: number; usage: Record<string, number> };
    const line = jsonAfter("Output lines follow OpenAI's format") as { id: string; custom_id: string; response: { request_id: string; body: Body } };
    const body = line.response.body;
    const choices = body.choices;
    agrees(
      line.custom_id,
      choices.map((c) => c.message.content),
      choices.map((c) => c.answer),
      body.answer,
      body.usage,
    );
    expect(choices).toHaveLength(body.n);
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens);
    expect(line.id).toBe(`batch_req_${line.response.request_id.replace(/^req_/, '')}`);
  });
});

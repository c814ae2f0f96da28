// OpenAI batch lines carry the expected answer in body.metadata.expected_answer (metadata is otherwise
// ignored): it becomes the job request's expected_answer; a non-string value is a line error.
import { describe, expect, it } from 'vitest';
import { convertBatchLine, EXPECTED_ANSWER_KEY } from '../../protocol/openai-requests.js';

const line = (metadata?: unknown) => ({
  custom_id: 'q1',
  method: 'POST',
  url: '/v1/chat/completions',
  body: { model: 'reasoner', messages: [{ role: 'user', content: 'Q:1+2=' }], ...(metadata === undefined ? {} : { metadata }) },
});

describe('OpenAI lines: metadata.expected_answer', () => {
  it('becomes expected_answer; other metadata keys stay ignored; absent means ungraded', () => {
    expect(EXPECTED_ANSWER_KEY).toBe('expected_answer');
    const graded = convertBatchLine(line({ expected_answer: '3', source: 'suite' }), 1, '/v1/chat/completions');
    expect(graded).toEqual({
      ok: true,
      value: { model: 'reasoner', request: { custom_id: 'q1', messages: [{ role: 'user', content: 'Q:1+2=' }], expected_answer: '3' } },
    });
    const plain = convertBatchLine(line({ source: 'suite' }), 1, '/v1/chat/completions');
    expect(plain.ok && plain.value.request.expected_answer).toBeUndefined();
    expect(convertBatchLine(line(), 1, '/v1/chat/completions').ok).toBe(true);
  });

  it('refuses a non-string expected answer with the line and the parameter', () => {
    const bad = convertBatchLine(line({ expected_answer: 3 }), 4, '/v1/chat/completions');
    expect(bad).toEqual({
      ok: false,
      errors: [{ code: 'invalid_request', message: 'body.metadata.expected_answer must be a string', param: 'body.metadata.expected_answer', line: 4 }],
    });
  });
});

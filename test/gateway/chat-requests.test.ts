// Chat requests on the native API (`messages` instead of `prompt`) and in OpenAI batch lines: the
// messages travel to the runner with the request (it renders the checkpoint's template); the stored
// prompt is their text.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { convertBatchLine } from '../../protocol/openai-requests.js';
import { type Harness, makeHarness } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(() => h.close());

const messages = [
  { role: 'system', content: 'You are a helpful assistant.' },
  {
    role: 'user',
    content: [
      { type: 'text', text: 'Q:1a+' },
      { type: 'text', text: '2b=' },
    ],
  },
];

describe('chat requests', () => {
  it('native API: messages reach the runner normalised, the prompt is their text', async () => {
    const res = await h.submit({ model: 'reasoner', requests: [{ custom_id: 'c', messages, params: { max_tokens: 8 } }] });
    expect(res.status).toBe(201);
    const claim = await h.runner('/claim', { runner_id: 'gpu' });
    const [req] = claim.body.requests;
    expect(req.prompt).toBe('You are a helpful assistant.\nQ:1a+2b=');
    expect(req.params.messages).toEqual([
      { role: 'system', content: 'You are a helpful assistant.' },
      { role: 'user', content: 'Q:1a+2b=' },
    ]);
  });

  it('exactly one of prompt and messages', async () => {
    for (const r of [{ custom_id: 'x', prompt: 'Q:1=', messages }, { custom_id: 'y' }]) {
      const res = await h.submit({ model: 'reasoner', requests: [r] });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body)).toContain('give exactly one of prompt and messages');
    }
    const empty = await h.submit({ model: 'reasoner', requests: [{ custom_id: 'z', messages: [] }] });
    expect(empty.status).toBe(400);
  });

  it('an OpenAI chat batch line becomes a request with messages', () => {
    const out = convertBatchLine(
      { custom_id: 'a', method: 'POST', url: '/v1/chat/completions', body: { model: 'reasoner', messages } },
      1,
      '/v1/chat/completions',
    );
    expect(out.ok && out.value.request).toEqual({
      custom_id: 'a',
      messages: [
        { role: 'system', content: 'You are a helpful assistant.' },
        { role: 'user', content: 'Q:1a+2b=' },
      ],
    });
  });
});

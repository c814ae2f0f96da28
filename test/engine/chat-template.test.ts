// Chat templates: the shipped byte-level template reads only user/assistant turns (a system message
// leaves the prompt unchanged); a ChatML template renders as transformers does, and a special token's
// text inside a message stays ordinary text.
import { describe, expect, it } from 'vitest';
import { buildByteLevelTokenizerConfig, buildByteLevelTokenizerJson, Tokenizer } from '../../engine/model/tokenizer.js';

const CHATML =
  "{% for m in messages %}{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** The byte-level tokenizer plus ChatML's two control tokens (ids 259, 260) and that template. */
function chatmlTokenizer(): Tokenizer {
  const json = buildByteLevelTokenizerJson();
  const added = json.added_tokens as Record<string, unknown>[];
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  json.added_tokens = [...added, special(259, '<|im_start|>'), special(260, '<|im_end|>')];
  return new Tokenizer(json, { ...buildByteLevelTokenizerConfig(), chat_template: CHATML });
}

const bytes = (s: string) => [...new TextEncoder().encode(s)];

describe('chat templates', () => {
  it('the shipped template: a system message does not change a suite prompt', () => {
    const tok = Tokenizer.byteLevel();
    const prompt = 'Q:8a+2b*2c-4=';
    expect(tok.encodeChat([{ role: 'user', content: prompt }])).toEqual(tok.encodePrompt(prompt));
    expect(
      tok.encodeChat([
        { role: 'system', content: 'You are a helpful assistant.' },
        { role: 'user', content: prompt },
      ]),
    ).toEqual(tok.encodePrompt(prompt));
    expect(
      tok.encodeChat([
        { role: 'user', content: 'Q:1a=' },
        { role: 'assistant', content: 'A:1;' },
        { role: 'user', content: prompt },
      ]),
    ).toEqual(tok.encodePrompt(`Q:1a=\nA:1;\n${prompt}`));
  });

  it('ChatML renders with control tokens and add_generation_prompt, as transformers does', () => {
    const tok = chatmlTokenizer();
    const ids = tok.encodeChat([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ]);
    expect(ids).toEqual([
      259,
      ...bytes('system\nBe brief.'),
      260,
      ...bytes('\n'),
      259,
      ...bytes('user\nHi'),
      260,
      ...bytes('\n'),
      259,
      ...bytes('assistant\n'),
    ]);
  });

  it("a control token's text inside a message stays text", () => {
    const tok = chatmlTokenizer();
    const ids = tok.encodeChat([{ role: 'user', content: 'a<|im_end|>b' }]);
    expect(ids.filter((i) => i === 260)).toHaveLength(1); // only the template's own end of turn
    expect(tok.decode(ids, false)).toBe('<|im_start|>user\na<|im_end|>b<|im_end|>\n<|im_start|>assistant\n');
  });

  it('a checkpoint without a chat template refuses messages with the reason', () => {
    const tok = new Tokenizer(buildByteLevelTokenizerJson(), { bos_token: '<|bos|>' });
    expect(() => tok.encodeChat([{ role: 'user', content: 'x' }])).toThrow(/no chat_template/);
  });
});

// Chat messages -> prompt ids through the checkpoint's own chat template (tokenizer_config.json's
// chat_template, Jinja via @huggingface/jinja) with add_generation_prompt, as transformers renders it.
import { randomBytes } from 'node:crypto';
import { Template } from '@huggingface/jinja';

/** One chat turn as templates see it (content already a string). */
export interface ChatTurn {
  role: string;
  content: string;
}

/** What the renderer needs from the tokenizer: its config, its special texts and two encoders. */
export interface ChatTokenizer {
  readonly config: Record<string, unknown>;
  /** Texts of the special tokens (e.g. `<|im_end|>`). */
  readonly specialTexts: readonly string[];
  /** Text with special-token texts recognised as those tokens (the template's own markup). */
  encodeWithSpecials(text: string): number[];
  /** Text never read as control tokens (what users wrote). */
  encode(text: string): number[];
}

function tokenText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return '';
}

/** The template text: a string, or HF's list of named templates (the one named "default"). */
export function chatTemplateOf(config: Record<string, unknown>): string | null {
  const t = config.chat_template;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) {
    const d = (t as { name?: unknown; template?: unknown }[]).find((x) => x.name === 'default');
    return typeof d?.template === 'string' ? d.template : null;
  }
  return null;
}

/** Renders the template over the messages with the variables transformers passes (the library brings raise_exception). */
export function renderChat(template: string, config: Record<string, unknown>, messages: ChatTurn[]): string {
  return new Template(template).render({
    messages,
    add_generation_prompt: true,
    bos_token: tokenText(config.bos_token),
    eos_token: tokenText(config.eos_token),
    pad_token: tokenText(config.pad_token),
    unk_token: tokenText(config.unk_token),
  });
}

/**
 * Prompt ids of a chat. The rendered text is tokenized as transformers does (special texts are control
 * tokens), except that a special token's text written inside a message stays ordinary text: before
 * rendering it is swapped for a marker no user can guess, and the marker is encoded as plain text.
 */
export function encodeChat(tok: ChatTokenizer, messages: ChatTurn[]): number[] {
  const template = chatTemplateOf(tok.config);
  if (template === null) throw new Error('this checkpoint has no chat_template in tokenizer_config.json: send a prompt instead of messages');
  const nonce = randomBytes(6).toString('hex');
  const quoted: string[] = [];
  const specials = [...tok.specialTexts].sort((a, b) => b.length - a.length);
  const guard = (text: string) => {
    let out = text;
    for (const s of specials) {
      if (!out.includes(s)) continue;
      out = out.split(s).join(`\uE000${nonce}:${quoted.length}\uE001`);
      quoted.push(s);
    }
    return out;
  };
  const rendered = renderChat(
    template,
    tok.config,
    messages.map((m) => ({ role: m.role, content: guard(m.content) })),
  );
  const ids: number[] = [];
  const marker = new RegExp(`\uE000${nonce}:(\\d+)\uE001`, 'g');
  let at = 0;
  for (const m of rendered.matchAll(marker)) {
    ids.push(...tok.encodeWithSpecials(rendered.slice(at, m.index)), ...tok.encode(quoted[Number(m[1])]));
    at = m.index + m[0].length;
  }
  ids.push(...tok.encodeWithSpecials(rendered.slice(at)));
  return ids;
}

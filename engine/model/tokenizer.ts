// The tokenizer: a thin wrapper over @huggingface/tokenizers loading a folder's tokenizer.json,
// plus the builder of our shipped byte-level tokenizer (256 byte symbols + 3 specials).
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { type ChatTurn, encodeChat } from './chat-template.js';

/** Ids of the shipped byte-level tokenizer's specials. */
export const BYTE_SPECIALS = { bos: '<|bos|>', eos: '<|eos|>', pad: '<|pad|>' } as const;
export const BYTE_BOS_ID = 256;
export const BYTE_EOS_ID = 257;
export const BYTE_PAD_ID = 258;
export const BYTE_VOCAB_SIZE = 259;

/** GPT-2's byte -> printable unicode char table, the alphabet of every byte-level BPE. */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const table: string[] = new Array(256);
  for (const b of bs) table[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (table[b] === undefined) table[b] = String.fromCharCode(256 + n++);
  }
  return table;
}

/** Our shipped tokenizer.json: byte-level BPE, no merges, so token id = byte value (ASCII: 1 char = 1 token). */
export function buildByteLevelTokenizerJson(): Record<string, unknown> {
  const table = bytesToUnicode();
  const vocab: Record<string, number> = {};
  for (let b = 0; b < 256; b++) vocab[table[b]] = b;
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(BYTE_BOS_ID, BYTE_SPECIALS.bos), special(BYTE_EOS_ID, BYTE_SPECIALS.eos), special(BYTE_PAD_ID, BYTE_SPECIALS.pad)],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: [],
    },
  };
}

/**
 * The shipped models' chat template: they were trained on bare suite prompts and follow no
 * instructions, so they read only the conversation's user and assistant turns, joined by newlines,
 * after bos; system and developer messages are left out (they would only perturb the prompt), and
 * the generation prompt is empty (the answer follows the problem directly).
 */
export const BYTE_CHAT_TEMPLATE = [
  '{{- bos_token -}}',
  '{%- set ns = namespace(first=true) -%}',
  '{%- for m in messages -%}',
  "{%- if m.role == 'user' or m.role == 'assistant' -%}",
  "{%- if not ns.first %}{{ '\n' }}{% endif -%}",
  '{{- m.content -}}',
  '{%- set ns.first = false -%}',
  '{%- endif -%}',
  '{%- endfor -%}',
].join('');

/** tokenizer_config.json matching buildByteLevelTokenizerJson. */
export function buildByteLevelTokenizerConfig(): Record<string, unknown> {
  return {
    bos_token: BYTE_SPECIALS.bos,
    eos_token: BYTE_SPECIALS.eos,
    pad_token: BYTE_SPECIALS.pad,
    add_bos_token: true,
    clean_up_tokenization_spaces: false,
    model_max_length: 1 << 20,
    chat_template: BYTE_CHAT_TEMPLATE,
  };
}

function tokenName(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return null;
}

export class Tokenizer {
  private readonly hf: HfTokenizer;
  /** Beginning-of-sequence id (prepended by encodePrompt), or null. */
  readonly bosId: number | null;
  /** End-of-sequence id, or null. */
  readonly eosId: number | null;
  /** Padding id, or null. */
  readonly padId: number | null;
  /** Ids that decode() skips by default. */
  readonly specialIds: Set<number>;
  /** The texts of the special tokens (e.g. `<|eos|>`), which encode() treats as ordinary text. */
  readonly specialTexts: string[];

  constructor(
    readonly json: Record<string, unknown>,
    readonly config: Record<string, unknown> = {},
  ) {
    this.hf = new HfTokenizer(json, { clean_up_tokenization_spaces: false, ...config });
    const lookup = (key: string, fallback: string) => {
      const name = tokenName(config[key]) ?? fallback;
      return this.hf.token_to_id(name) ?? null;
    };
    this.bosId = lookup('bos_token', BYTE_SPECIALS.bos);
    this.eosId = lookup('eos_token', BYTE_SPECIALS.eos);
    this.padId = lookup('pad_token', BYTE_SPECIALS.pad);
    const added = Array.isArray(json.added_tokens) ? (json.added_tokens as { id: number; content?: unknown; special?: boolean }[]) : [];
    const specials = added.filter((t) => t.special);
    this.specialIds = new Set(specials.map((t) => t.id));
    this.specialTexts = specials.map((t) => t.content).filter((c): c is string => typeof c === 'string' && c.length > 1);
  }

  /** Loads tokenizer.json (+ tokenizer_config.json when present) from a model folder. */
  static fromDir(dir: string): Tokenizer {
    const path = join(dir, 'tokenizer.json');
    if (!existsSync(path)) throw new Error(`tokenizer: ${path} not found`);
    const json = JSON.parse(readFileSync(path, 'utf8'));
    const cfgPath = join(dir, 'tokenizer_config.json');
    const config = existsSync(cfgPath) ? JSON.parse(readFileSync(cfgPath, 'utf8')) : {};
    return new Tokenizer(json, config);
  }

  /** The shipped byte-level tokenizer. */
  static byteLevel(): Tokenizer {
    return new Tokenizer(buildByteLevelTokenizerJson(), buildByteLevelTokenizerConfig());
  }

  /** Number of ids (base vocabulary + added tokens). */
  get vocabSize(): number {
    return this.hf.get_vocab(true).size;
  }

  /**
   * Text -> ids, no specials added. Text is never a control token: a special token's text inside it
   * (a prompt quoting `<|eos|>`) is encoded as ordinary characters, as its first character and the rest
   * separately, so the library's added-token matching cannot see it.
   */
  encode(text: string): number[] {
    const ids: number[] = [];
    let rest = text;
    while (rest.length > 0) {
      let at = -1;
      let found = '';
      for (const special of this.specialTexts) {
        const i = rest.indexOf(special);
        if (i >= 0 && (at < 0 || i < at)) [at, found] = [i, special];
      }
      if (at < 0) break;
      ids.push(...this.encodePlain(rest.slice(0, at)), ...this.encodePlain(found.slice(0, 1)), ...this.encodePlain(found.slice(1)));
      rest = rest.slice(at + found.length);
    }
    ids.push(...this.encodePlain(rest));
    return ids;
  }

  /** Text -> ids with special-token texts read as those tokens: for a chat template's own markup only. */
  encodeWithSpecials(text: string): number[] {
    return this.encodePlain(text);
  }

  /** Prompt ids of chat messages through the checkpoint's chat template (chat-template.ts). */
  encodeChat(messages: ChatTurn[]): number[] {
    return encodeChat(this, messages);
  }

  private encodePlain(text: string): number[] {
    return text.length === 0 ? [] : this.hf.encode(text, { add_special_tokens: false }).ids;
  }

  /** Prompt ids as the engine (and training) feed them: [bos, ...encode(text)] when a bos exists. */
  encodePrompt(text: string): number[] {
    const ids = this.encode(text);
    return this.bosId === null ? ids : [this.bosId, ...ids];
  }

  /** Ids -> text; specials skipped unless asked. */
  decode(ids: number[], skipSpecial = true): string {
    if (ids.length === 0) return ''; // the library throws on an empty list
    return this.hf.decode(ids, { skip_special_tokens: skipSpecial, clean_up_tokenization_spaces: false });
  }

  tokenToId(token: string): number | null {
    return this.hf.token_to_id(token) ?? null;
  }
}

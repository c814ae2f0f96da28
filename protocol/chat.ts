// Chat messages on the wire (OpenAI's shape: role + text content), normalised to plain strings, and
// their plain-text join kept as the request's prompt for display and length estimates.
import { z } from 'zod';
import { named } from './registry.js';

const TextPartSchema = z.object({ type: z.literal('text'), text: z.string() });

export const ChatMessageSchema = named(
  z.object({
    role: z.enum(['system', 'developer', 'user', 'assistant']),
    content: z.union([z.string(), z.array(TextPartSchema)]),
  }),
  'ChatMessage',
  "One chat turn; the runner renders the checkpoint's chat template over the messages",
);
export const ChatMessagesSchema = z.array(ChatMessageSchema).min(1, 'messages must not be empty');
export type ChatMessageInput = z.infer<typeof ChatMessageSchema>;

/** A message with its content as one string (text parts joined), as templates and runners see it. */
export type ChatMessage = { role: ChatMessageInput['role']; content: string };

export const NormalizedMessagesSchema = z.array(z.object({ role: ChatMessageSchema.shape.role, content: z.string() }));

export function normalizeMessages(messages: ChatMessageInput[]): ChatMessage[] {
  return messages.map((m) => ({ role: m.role, content: typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join('') }));
}

/** The messages' contents joined by newlines: what is stored as the prompt text (the template decides what the model sees). */
export function messagesToPrompt(messages: ChatMessage[]): string {
  return messages.map((m) => m.content).join('\n');
}

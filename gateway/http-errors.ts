// JSON error responses and body parsing shared by all routes: every 4xx names the field and
// the reason (protocol/errors.ts), and malformed JSON or a schema mismatch never reaches a handler.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import { type ApiIssue, errorBody, zodIssues } from '../protocol/index.js';

export function apiError(c: Context, status: ContentfulStatusCode, type: string, message: string, issues: ApiIssue[] = []): Response {
  return c.json(errorBody(type, message, issues), status);
}

export const invalid = (c: Context, issues: ApiIssue[], message = 'invalid request') => apiError(c, 400, 'invalid_request', message, issues);
export const notFound = (c: Context, what: string) => apiError(c, 404, 'not_found', `${what} not found`);

/** Reads the body as JSON: the parsed value, or a 400 naming `body` when it is not JSON. */
export async function readJson(c: Context): Promise<{ ok: true; value: unknown } | { ok: false; response: Response }> {
  const text = await c.req.text();
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    // The message names the problem once; the issue carries the parser's detail (no "malformed JSON: body: malformed JSON").
    const reason = `not valid JSON (${(error as Error).message})`;
    return { ok: false, response: invalid(c, [{ field: 'body', reason }], 'malformed JSON') };
  }
}

/** Reads and validates a JSON body against a zod schema; a 400 with field-named issues otherwise. */
export async function readBody<T extends z.ZodType>(c: Context, schema: T): Promise<{ ok: true; value: z.infer<T> } | { ok: false; response: Response }> {
  const json = await readJson(c);
  if (!json.ok) return json;
  const parsed = schema.safeParse(json.value);
  if (!parsed.success) return { ok: false, response: invalid(c, zodIssues(parsed.error)) };
  return { ok: true, value: parsed.data };
}

// Shared bits of the OpenAI-compatible routes: errors that carry OpenAI's `param`/`code` beside our
// field-named issues, list pages, ids and time conversion (OpenAI speaks Unix seconds).
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { JobStore } from '../../db/job-store.js';
import { type ModelCatalog, errorBody, type RunnerCapability, zodIssues } from '../../protocol/index.js';
import { type OpenAiList, OpenAiListQuerySchema } from '../../protocol/openai-objects.js';
import type { Limits } from '../limits.js';

export type OpenAiDeps = {
  store: JobStore;
  models: ModelCatalog;
  limits: Limits;
  clock: () => number;
  wakeRunners?: () => void;
  /** The only runner's capability (see AppDeps.fleet): a batch whose lines it cannot serve fails validation. */
  fleet?: RunnerCapability;
};

/** Our error body plus OpenAI's `param` and `code`, so both kinds of client read it. */
export function openAiError(c: Context, status: ContentfulStatusCode, type: string, code: string, message: string, param: string | null = null): Response {
  const body = errorBody(type, message, param ? [{ field: param, reason: message }] : []);
  return c.json({ error: { ...body.error, message, param, code } }, status);
}

export const openAiNotFound = (c: Context, what: 'file' | 'batch', id: string) =>
  openAiError(c, 404, 'not_found', `${what}_not_found`, `no ${what} with id "${id}"`, `${what}_id`);

/** Unix seconds of a ms timestamp (null stays null). */
export function unixSeconds(ms: number): number;
export function unixSeconds(ms: number | null): number | null;
export function unixSeconds(ms: number | null): number | null {
  return ms === null ? null : Math.floor(ms / 1000);
}

/** `file-` and 24 random hex digits, OpenAI's id style. */
export function newFileId(): string {
  const buf = crypto.getRandomValues(new Uint8Array(12));
  return `file-${Array.from(buf, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** Parses ?limit=&after=&order= against the gateway limits; a Response on bad input. */
export function listQuery(c: Context, limits: Limits): { limit: number; after?: string; order?: 'asc' | 'desc'; purpose?: string } | Response {
  const query = OpenAiListQuerySchema.safeParse(c.req.query());
  if (!query.success) {
    const first = zodIssues(query.error)[0];
    return openAiError(c, 400, 'invalid_request', 'invalid_query', `${first.field}: ${first.reason}`, first.field);
  }
  const limit = query.data.limit ?? limits.defaultListLimit;
  if (limit > limits.maxListLimit) return openAiError(c, 400, 'invalid_request', 'invalid_query', `limit must be at most ${limits.maxListLimit}`, 'limit');
  return { ...query.data, limit };
}

export function listPage<T extends { id: string }>(data: T[], hasMore: boolean): OpenAiList<T> {
  return { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null, has_more: hasMore };
}

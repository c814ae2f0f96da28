// Error bodies on the OpenAI-compatible routes (/v1/files, /v1/batches, /v1/models) carry the `type`
// OpenAI names for the status, whichever layer answered (body limit, auth, rate limit, route, 500).
import type { MiddlewareHandler } from 'hono';

/** OpenAI's error type for an HTTP status; our own type moves to `code` when the route set none. */
export function openAiErrorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

type Body = { error?: { type?: string; code?: string | null; param?: string | null; field?: string | null } };

export function openAiErrors(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    if (c.res.status < 400 || !(c.res.headers.get('content-type') ?? '').includes('json')) return;
    const body = (await c.res.clone().json()) as Body;
    if (!body.error) return;
    const { type, code, param, field } = body.error;
    const error = { ...body.error, type: openAiErrorType(c.res.status), code: code ?? type ?? null, param: param ?? field ?? null };
    const headers = new Headers(c.res.headers);
    headers.delete('content-length');
    c.res = new Response(JSON.stringify({ ...body, error }), { status: c.res.status, headers });
  };
}

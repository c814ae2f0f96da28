// The request body limit (413 beyond `maxBytes`) without building a Web stream when it is not
// needed: on Node, touching `c.req.raw.body` turns the lazy request into a full one, per request.
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

/**
 * GET/HEAD pass; a declared Content-Length (without Transfer-Encoding) is checked from the header,
 * which the HTTP parser holds the body to; anything else (chunked, streamed) is counted by Hono's
 * bodyLimit as it is read.
 */
export function requestBodyLimit(maxBytes: number, onError: (c: Context) => Response): MiddlewareHandler {
  const streamed = bodyLimit({ maxSize: maxBytes, onError });
  return async (c, next) => {
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD') return next();
    const declared = c.req.header('content-length');
    if (declared !== undefined && c.req.header('transfer-encoding') === undefined) {
      return Number.parseInt(declared, 10) > maxBytes ? onError(c) : next();
    }
    return streamed(c, next);
  };
}

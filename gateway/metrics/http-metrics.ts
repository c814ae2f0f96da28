// Counts every HTTP request and its latency by route pattern (never the raw path, whose ids would
// make a new series per job), method and status; unknown paths share the label "unmatched".
import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { ServiceMetrics } from './service-metrics.js';

/** The pattern of the handler the request matched; middleware (registered with use(), method ALL) is skipped. */
export function routeLabel(c: Context): string {
  const handlers = matchedRoutes(c).filter((r) => r.method !== 'ALL');
  return handlers.length > 0 ? handlers[handlers.length - 1].path : 'unmatched';
}

export function httpMetrics(metrics: ServiceMetrics, now: () => number = () => performance.now()): MiddlewareHandler {
  return async (c, next) => {
    const start = now();
    try {
      await next();
    } finally {
      metrics.http(routeLabel(c), c.req.method, c.res.status, (now() - start) / 1000);
    }
  };
}

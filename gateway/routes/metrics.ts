// GET /metrics in Prometheus text format. With DMS_METRICS_TOKEN set it needs that bearer token;
// without one it answers only direct loopback connections (a request relayed by a proxy is refused).
import type { Context } from 'hono';
import { Hono } from 'hono';
import { sha256Hex } from '../../db/ids.js';
import type { JobStore } from '../../db/job-store.js';
import type { Digest } from '../auth.js';
import { constantTimeIncludes } from '../constant-time.js';
import { apiError } from '../http-errors.js';
import type { ServiceMetrics } from '../metrics/service-metrics.js';

/** The peer address of a request as the runtime reports it; undefined where the runtime cannot tell. */
export type RemoteAddress = (c: Context) => string | undefined;

export type MetricsRouteDeps = {
  store: JobStore;
  metrics: ServiceMetrics;
  /** DMS_METRICS_TOKEN; unset or empty: loopback only. */
  token?: string;
  remoteAddress?: RemoteAddress;
  digest?: Digest;
};

const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip'];

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4 === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

export function metricsRoutes(deps: MetricsRouteDeps) {
  const digest = deps.digest ?? sha256Hex;
  const tokenHash = deps.token ? sha256Hex(deps.token) : null;

  async function allowed(c: Context): Promise<Response | null> {
    if (tokenHash) {
      const match = /^Bearer\s+(\S{1,512})\s*$/i.exec(c.req.header('authorization') ?? '');
      if (match && constantTimeIncludes([await tokenHash], await digest(match[1]))) return null;
      c.header('WWW-Authenticate', 'Bearer');
      return apiError(c, 401, 'unauthorized', 'missing or invalid metrics token (DMS_METRICS_TOKEN)');
    }
    // A proxy on the same host makes every client look local: its forwarding headers give it away.
    const relayed = PROXY_HEADERS.some((h) => c.req.header(h) !== undefined);
    if (!relayed && isLoopback(deps.remoteAddress?.(c))) return null;
    return apiError(c, 403, 'forbidden', 'metrics are served to loopback clients only; set DMS_METRICS_TOKEN to scrape from elsewhere');
  }

  return new Hono().get('/metrics', async (c) => {
    const refused = await allowed(c);
    if (refused) return refused;
    const text = await deps.metrics.scrape(deps.store);
    return c.body(text, 200, { 'Content-Type': deps.metrics.registry.contentType, 'Cache-Control': 'no-store' });
  });
}

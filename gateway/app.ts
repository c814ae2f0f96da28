// The runtime-free gateway: createApp(deps) wires the client job API, the runner API, health and
// OpenAPI routes, /metrics and the console (/ui) onto one Hono app. No node: imports here; entries inject the deps.
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { JobStore } from '../db/job-store.js';
import type { ModelCatalog, RunnerCapability } from '../protocol/index.js';
import { requestBodyLimit } from './body-limit.js';
import { type AuthConfig, type ClientEnv, clientAuth, type Digest, runnerAuth } from './auth.js';
import { apiError } from './http-errors.js';
import { type Limits, resolveLimits } from './limits.js';
import { defaultLogger, describeError, type Logger } from './log.js';
import { httpMetrics } from './metrics/http-metrics.js';
import { instrumentStore, metricsOf } from './metrics/instrument-store.js';
import { createServiceMetrics, type ServiceMetrics } from './metrics/service-metrics.js';
import { TextRegistry } from './metrics/text-registry.js';
import { rateLimit, TokenBuckets } from './rate-limit.js';
import { healthRoutes } from './routes/health.js';
import { jobRequestRoutes } from './routes/job-requests.js';
import { jobRoutes } from './routes/jobs.js';
import { modelRoutes } from './routes/models.js';
import { metricsRoutes, type RemoteAddress } from './routes/metrics.js';
import { openAiBatchRoutes } from './routes/openai-batches.js';
import { openAiErrors } from './routes/openai-errors.js';
import { openAiFileRoutes } from './routes/openai-files.js';
import { runnerRoutes } from './routes/runner.js';
import { uiRoutes } from './routes/ui.js';
import { storageFailure, storageUnavailable } from './storage-errors.js';

export type AppDeps = {
  store: JobStore;
  models: ModelCatalog;
  auth: AuthConfig;
  /** Wall clock for responses (the store keeps its own for leases); defaults to Date.now. */
  clock?: () => number;
  limits?: Partial<Limits>;
  /** Error log; the default never writes statement parameters (prompts) or secrets. */
  log?: Logger;
  /** Clock of the per-key rate limiter; defaults to a monotonic one. */
  rateClock?: () => number;
  /** SHA-256 hex for credentials (default WebCrypto); node.ts passes node:crypto's synchronous one. */
  digest?: Digest;
  /**
   * What every runner of this gateway serves, given only when the gateway knows them all (node.ts: the
   * in-process runner on and the remote runner API off): a request whose compression method it does not
   * serve is refused at submission with a 400. Absent (remote runners may come; Workers, Deno): jobs
   * are accepted and wait for a runner that serves them.
   */
  fleet?: RunnerCapability;
  /** Called after a job is stored (POST /v1/jobs, a validated batch): node.ts wakes its in-process runner. */
  wakeRunners?: () => void;
  /** Metrics of this gateway (node.ts: prom-client); default: those of a store from instrumentStore(),
   * else a new runtime-free registry. Entries whose store is also used outside the app (the
   * in-process runner, a sweep timer) instrument it themselves so that every event is counted once. */
  metrics?: ServiceMetrics;
  /** DMS_METRICS_TOKEN: bearer token of /metrics; unset: /metrics answers loopback peers only. */
  metricsToken?: string;
  /** The peer address of a request (the runtime's conninfo); without it /metrics needs the token. */
  remoteAddress?: RemoteAddress;
};

export function createApp(deps: AppDeps) {
  const limits = resolveLimits(deps.limits);
  const clock = deps.clock ?? (() => Date.now());
  const log = deps.log ?? defaultLogger;
  const buckets = new TokenBuckets({
    perSecond: limits.rateLimitPerSecond,
    burst: limits.rateLimitBurst,
    clock: deps.rateClock ?? (() => performance.now()),
    maxBuckets: 10_000,
  });
  const metrics = deps.metrics ?? metricsOf(deps.store) ?? createServiceMetrics(new TextRegistry(), clock);
  const store = instrumentStore(deps.store, metrics);
  const app = new Hono();

  // Before every other layer, so that their errors on these routes get OpenAI's types too.
  for (const path of ['/v1/files', '/v1/batches', '/v1/models']) app.use(`${path}/*`, openAiErrors());
  app.use('*', httpMetrics(metrics));
  app.use(
    '*',
    requestBodyLimit(limits.maxBodyBytes, (c) =>
      apiError(c, 413, 'payload_too_large', 'request body too large', [{ field: 'body', reason: `larger than ${limits.maxBodyBytes} bytes` }]),
    ),
  );

  app.route('/', healthRoutes({ store, models: deps.models, clock }));
  app.route('/', metricsRoutes({ store, metrics, token: deps.metricsToken, remoteAddress: deps.remoteAddress, digest: deps.digest }));
  app.route('/', uiRoutes());

  const client = new Hono<ClientEnv>();
  client.use('*', clientAuth(store, deps.digest));
  client.use('*', rateLimit(buckets));
  const wakeRunners = deps.wakeRunners ?? (() => {});
  client.route('/jobs', jobRoutes({ store, models: deps.models, limits, wakeRunners, fleet: deps.fleet }));
  client.route('/jobs', jobRequestRoutes({ store, limits }));
  client.route('/models', modelRoutes(deps.models, clock));
  const openAi = { store, models: deps.models, limits, clock, wakeRunners, fleet: deps.fleet };
  client.route('/files', openAiFileRoutes(openAi));
  client.route('/batches', openAiBatchRoutes(openAi));

  const runner = new Hono();
  runner.use('*', runnerAuth(store, deps.auth, deps.digest));
  runner.route('/', runnerRoutes({ store, limits }));

  // The runner API is mounted first so that its paths never fall through to client auth.
  app.route('/v1/runner', runner);
  app.route('/v1', client);

  app.notFound((c) => apiError(c, 404, 'not_found', `no route for ${c.req.method} ${c.req.path}`));
  app.onError((error, c) => {
    if (error instanceof HTTPException) return error.getResponse();
    const failure = storageFailure(error);
    if (failure) {
      log.warn('storage unavailable', { method: c.req.method, path: c.req.path, kind: failure.kind, code: failure.code });
      return storageUnavailable(c, failure);
    }
    log.error('unhandled error', { method: c.req.method, path: c.req.path, error: describeError(error, log.verbose) });
    return apiError(c, 500, 'internal', 'internal error');
  });
  return app;
}

export type App = ReturnType<typeof createApp>;

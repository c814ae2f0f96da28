// The Cloudflare Workers entry: the same Hono app over a D1 binding (migrations applied by
// `wrangler d1 migrations apply`), the catalog from a var, and a cron trigger that sweeps leases.
import { type D1Binding, openD1 } from '../db/d1-db.js';
import { createJobStore, type JobStore } from '../db/job-store.js';
import { type ModelCatalog, ModelCatalogSchema } from '../protocol/index.js';
import { createApp } from './app.js';
import { instrumentStore } from './metrics/instrument-store.js';
import { createServiceMetrics } from './metrics/service-metrics.js';
import { TextRegistry } from './metrics/text-registry.js';
import { addConfiguredKey, storeSettingsFromEnv } from './local-setup.js';

/** Bindings and vars (wrangler.toml); DMS_API_KEY and DMS_RUNNER_TOKEN are secrets (`wrangler secret put`). */
export type Env = {
  DB: D1Binding;
  /** The model catalog as JSON ({defaultModel, models: [...]}): what the runners behind this gateway serve. */
  DMS_MODELS: string;
  /** A client key accepted for tenant `local` (its hash is stored on first use). */
  DMS_API_KEY?: string;
  /** Token remote runners present on /v1/runner; unset: the runner API refuses everyone. */
  DMS_RUNNER_TOKEN?: string;
  /** Bearer token of /metrics (a secret); unset: /metrics refuses everyone (a Worker has no loopback peer). */
  DMS_METRICS_TOKEN?: string;
  DMS_PRICE_PER_RUNNER_HOUR?: string;
  DMS_MAX_ATTEMPTS?: string;
  DMS_LEASE_SECONDS?: string;
};

type Instance = { app: ReturnType<typeof createApp>; store: JobStore; ready: Promise<void> };

function parseCatalog(raw: string | undefined): ModelCatalog {
  if (!raw) throw new Error('DMS_MODELS is not set: put the model catalog JSON in wrangler.toml [vars]');
  const parsed = ModelCatalogSchema.safeParse(JSON.parse(raw));
  if (!parsed.success) throw new Error(`DMS_MODELS is not a model catalog: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** One app per isolate and env: the store, the catalog and the key bootstrap are built once. */
const instances = new WeakMap<Env, Instance>();

function instance(env: Env): Instance {
  let found = instances.get(env);
  if (!found) {
    // Counters live in this isolate's memory; the store-backed gauges agree across isolates.
    const metrics = createServiceMetrics(new TextRegistry());
    const store = instrumentStore(createJobStore(openD1(env.DB), storeSettingsFromEnv(env)), metrics);
    const app = createApp({
      store,
      models: parseCatalog(env.DMS_MODELS),
      auth: { runnerTokens: env.DMS_RUNNER_TOKEN ? [env.DMS_RUNNER_TOKEN] : [] },
      metrics,
      metricsToken: env.DMS_METRICS_TOKEN || undefined,
    });
    // No key is created here: a Worker has nowhere to print it once, so DMS_API_KEY is the way in.
    const ready = addConfiguredKey(store, env).then(() => undefined);
    // A failed bootstrap (say, migrations not applied yet) is retried by the next request.
    ready.catch(() => instances.delete(env));
    found = { app, store, ready };
    instances.set(env, found);
  }
  return found;
}

/** The Workers execution context, as Hono's fetch types it. */
type Ctx = NonNullable<Parameters<ReturnType<typeof createApp>['fetch']>[2]>;

export default {
  async fetch(request: Request, env: Env, ctx: Ctx): Promise<Response> {
    let app: Instance['app'];
    try {
      const found = instance(env);
      await found.ready;
      app = found.app;
    } catch (error) {
      // A bad DMS_MODELS var, or a database without the migrations: say which instead of a bare 500.
      const message = `gateway not ready (is DMS_MODELS valid, are the D1 migrations applied?): ${(error as Error).message}`;
      return Response.json({ error: { type: 'unavailable', message, field: null, issues: [] } }, { status: 503 });
    }
    return app.fetch(request, env, ctx);
  },

  /** Cron trigger: take back expired leases even when no runner is claiming (claims sweep too); purge expired files. */
  async scheduled(_event: unknown, env: Env, ctx: Ctx): Promise<void> {
    const { store } = instance(env);
    ctx.waitUntil(Promise.all([store.sweep(), store.purgeExpiredFiles()]));
  },
};

// The Deno entry: the same app over node:sqlite (Deno cannot load better-sqlite3's V8 addon) with
// Deno.serve, a periodic lease sweep, and no in-process runner: remote runners do the work.
// deno run --allow-net --allow-read --allow-write --allow-env --node-modules-dir=manual --unstable-sloppy-imports gateway/deno.ts
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { createJobStore } from '../db/job-store.js';
import { openNodeSqlite } from '../db/node-sqlite-db.js';
import { createApp } from './app.js';
import { instrumentStore } from './metrics/instrument-store.js';
import { createServiceMetrics } from './metrics/service-metrics.js';
import { TextRegistry } from './metrics/text-registry.js';
import { ensureClientKey, envNumber, storeSettingsFromEnv } from './local-setup.js';
import { createLogger, describeError } from './log.js';
import { loadModelCatalog } from './model-catalog.js';

/** The part of Deno's global this entry uses (typed here so that tsc checks the file without Deno's types). */
declare const Deno: {
  serve(
    options: { port: number; hostname?: string; onListen?: (addr: { hostname: string; port: number }) => void },
    handler: (request: Request) => Response | Promise<Response>,
  ): { shutdown(): Promise<void>; finished: Promise<void> };
  addSignalListener(signal: 'SIGINT' | 'SIGTERM', handler: () => void): void;
  exit(code: number): never;
};

const MIGRATIONS_DIR = fileURLToPath(new URL('../db/migrations', import.meta.url));

const env = process.env;
const num = (name: string, fallback: number): number => envNumber(env, name, fallback);

async function main(): Promise<void> {
  const dataDir = resolve(env.DMS_DATA_DIR || './data');
  mkdirSync(dataDir, { recursive: true });
  const sqlDb = await openNodeSqlite(join(dataDir, 'dms.sqlite'), MIGRATIONS_DIR);
  // The sweep timer below uses the same instrumented store as the app, so lease expiries are counted.
  const metrics = createServiceMetrics(new TextRegistry());
  const store = instrumentStore(createJobStore(sqlDb, storeSettingsFromEnv(env)), metrics);
  await ensureClientKey(store, env);
  const runnerTokens = env.DMS_RUNNER_TOKEN ? [env.DMS_RUNNER_TOKEN] : [];
  const models = await loadModelCatalog(resolve(env.DMS_MODELS_DIR || './models'), env.DMS_DEFAULT_MODEL);
  console.log(`models: ${models.models.map((m) => m.name).join(', ') || 'none found'}`);

  const log = createLogger({ verbose: env.DMS_LOG_VERBOSE === '1' });
  const app = createApp({
    store,
    models,
    auth: { runnerTokens },
    log,
    metrics,
    metricsToken: env.DMS_METRICS_TOKEN || undefined,
    // Deno.serve passes its ServeHandlerInfo as the handler's second argument, which Hono calls env.
    remoteAddress: (c) => (c.env as { remoteAddr?: { hostname?: string } } | undefined)?.remoteAddr?.hostname,
  });
  const sweepTimer = setInterval(
    // Expired leases go back to the queue; expired files (expires_after) are purged.
    () => void Promise.all([store.sweep(), store.purgeExpiredFiles()]).catch((e) => log.error('sweep failed', { error: describeError(e, log.verbose) })),
    num('DMS_SWEEP_SECONDS', 15) * 1000,
  );
  const server = Deno.serve(
    {
      port: num('PORT', 8787),
      hostname: env.HOST || '0.0.0.0',
      onListen: ({ hostname, port }) => {
        console.log(`dms-batch gateway (Deno) listening on http://${hostname}:${port} (data: ${dataDir})`);
      },
    },
    app.fetch,
  );

  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    clearInterval(sweepTimer);
    await server.shutdown();
    sqlDb.close();
    Deno.exit(0);
  };
  Deno.addSignalListener('SIGINT', () => void shutdown());
  Deno.addSignalListener('SIGTERM', () => void shutdown());
}

main().catch((error) => {
  console.error(error);
  Deno.exit(1);
});

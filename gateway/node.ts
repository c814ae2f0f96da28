// The Node entry (`npm start`): SQLite under DMS_DATA_DIR or PostgreSQL at DMS_DATABASE_URL (migrations
// applied), the gateway on PORT, a periodic lease sweep, and one in-process runner when an executor exists.
import { serve } from '@hono/node-server';
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { createJobStore } from '../db/job-store.js';
import { createDefaultExecutor } from '../gpu-runner/executor-factory.js';
import { LocalStoreSource } from '../gpu-runner/local-store-source.js';
import { RunnerLoop } from '../gpu-runner/runner-loop.js';
import { createApp } from './app.js';
import { ensureClientKey, envNumber, storeSettingsFromEnv } from './local-setup.js';
import { createLogger, describeError } from './log.js';
import { loadModelCatalog } from './model-catalog.js';
import { openStoreFromEnv } from './open-store.js';

const env = process.env;
const num = (name: string, fallback: number): number => envNumber(env, name, fallback);

async function main(): Promise<void> {
  const port = num('PORT', 8787);
  const log = createLogger({ verbose: env.DMS_LOG_VERBOSE === '1' });
  const opened = await openStoreFromEnv(env, (e) => log.warn('idle database connection lost; the pool replaces it', { error: e.message }));
  console.log(`store: ${opened.description}`);
  const store = createJobStore(opened.sqlDb, storeSettingsFromEnv(env));
  await ensureClientKey(store, env);
  const runnerTokens = env.DMS_RUNNER_TOKEN ? [env.DMS_RUNNER_TOKEN] : [];
  if (runnerTokens.length === 0) console.log('remote runner API disabled: set DMS_RUNNER_TOKEN to enable /v1/runner');

  const models = await loadModelCatalog(resolve(env.DMS_MODELS_DIR || './models'), env.DMS_DEFAULT_MODEL);
  const describe = (m: (typeof models.models)[number]) =>
    `${m.name} (context ${m.contextLength}; methods ${m.methods.join(', ')}${m.dmsRatios.length ? `; DMS ratios ${m.dmsRatios.join(', ')}` : ''})`;
  console.log(`models: ${models.models.map(describe).join('; ') || 'none found'}`);

  const limits = {
    rateLimitPerSecond: env.DMS_RATE_LIMIT_RPS ? num('DMS_RATE_LIMIT_RPS', 0) : undefined,
    rateLimitBurst: env.DMS_RATE_LIMIT_BURST ? num('DMS_RATE_LIMIT_BURST', 0) : undefined,
  };
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
  const app = createApp({ store, models, auth: { runnerTokens }, limits, log, digest });
  const sweepTimer = setInterval(
    () => void store.sweep().catch((e) => log.error('sweep failed', { error: describeError(e, log.verbose) })),
    num('DMS_SWEEP_SECONDS', 15) * 1000,
  );

  // Construction point of the in-process runner's executor (the engine executor, issue 3).
  // DMS_INPROCESS_RUNNER=0: a gateway only (remote runners do the work; load tests measure the gateway).
  const inProcess = env.DMS_INPROCESS_RUNNER !== '0';
  let runner: RunnerLoop | null = null;
  if (inProcess) {
    const executor = await createDefaultExecutor();
    const heartbeatMs = Math.min(10_000, store.config.leaseMs / 3);
    // The host name keeps runner ids apart when gateways on several machines share one PostgreSQL.
    runner = new RunnerLoop(new LocalStoreSource(store), executor, { runnerId: `local-${hostname()}-${process.pid}`, heartbeatMs });
    runner.start();
  } else {
    console.log('in-process runner off (DMS_INPROCESS_RUNNER=0): jobs wait for remote runners');
  }

  const server = serve({ fetch: app.fetch, port }, (info) => {
    console.log(`dms-batch gateway listening on http://localhost:${info.port} (store: ${opened.kind})`);
  });

  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    clearInterval(sweepTimer);
    await runner?.stop();
    server.close();
    await opened.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

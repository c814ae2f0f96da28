// The Node entry (`npm start`): SQLite under DMS_DATA_DIR or PostgreSQL at DMS_DATABASE_URL (migrations
// applied), the gateway on PORT, a periodic lease sweep, and one in-process runner when an executor exists.
import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
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
import { instrumentStore } from './metrics/instrument-store.js';
import { PromClientRegistry } from './metrics/prom-client-registry.js';
import { createServiceMetrics } from './metrics/service-metrics.js';
import { loadModelCatalog } from './model-catalog.js';
import { openStoreFromEnv } from './open-store.js';
import { COMPRESSION_METHODS } from '../protocol/index.js';

const env = process.env;
const num = (name: string, fallback: number): number => envNumber(env, name, fallback);

async function main(): Promise<void> {
  const port = num('PORT', 8787);
  const log = createLogger({ verbose: env.DMS_LOG_VERBOSE === '1' });
  const opened = await openStoreFromEnv(env, (e) => log.warn('idle database connection lost; the pool replaces it', { error: e.message }));
  console.log(`store: ${opened.description}`);
  // One metrics instance for the app and the in-process runner, which share the instrumented store.
  const metrics = createServiceMetrics(new PromClientRegistry({ processMetrics: true }));
  const store = instrumentStore(createJobStore(opened.sqlDb, storeSettingsFromEnv(env)), metrics);
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
  // Construction point of the in-process runner's executor (the engine executor, issue 3).
  // DMS_INPROCESS_RUNNER=0: a gateway only (remote runners do the work; load tests measure the gateway).
  const inProcess = env.DMS_INPROCESS_RUNNER !== '0';
  const executor = inProcess ? await createDefaultExecutor() : null;
  // With the runner API off the in-process runner is the whole fleet: what its backend cannot serve is
  // refused at submission. With remote runners such a job waits for one that serves it.
  const fleet = executor && runnerTokens.length === 0 ? executor.capability : undefined;
  const unserved = fleet ? COMPRESSION_METHODS.filter((m) => !fleet.methods.includes(m)) : [];
  if (unserved.length > 0)
    console.log(
      `backend ${fleet?.backend} does not serve ${unserved.join(', ')}: such requests are refused at submission (DMS_RUNNER_TOKEN lets remote runners take them)`,
    );
  let runner: RunnerLoop | null = null;
  const app = createApp({
    store,
    models,
    auth: { runnerTokens },
    limits,
    log,
    digest,
    fleet,
    // A submit wakes the in-process runner, so an idle server claims a new job at once, not after its poll backoff.
    wakeRunners: () => runner?.wake(),
    metrics,
    metricsToken: env.DMS_METRICS_TOKEN || undefined,
    remoteAddress: (c) => getConnInfo(c).remote.address,
  });
  const sweepTimer = setInterval(
    // Expired leases go back to the queue; expired files (expires_after) are purged.
    () => void Promise.all([store.sweep(), store.purgeExpiredFiles()]).catch((e) => log.error('sweep failed', { error: describeError(e, log.verbose) })),
    num('DMS_SWEEP_SECONDS', 15) * 1000,
  );

  if (executor) {
    const heartbeatMs = Math.min(10_000, store.config.leaseMs / 3);
    // The host name keeps runner ids apart when gateways on several machines share one PostgreSQL.
    runner = new RunnerLoop(new LocalStoreSource(store), executor, { runnerId: `local-${hostname()}-${process.pid}`, heartbeatMs });
    runner.start();
  } else {
    console.log('in-process runner off (DMS_INPROCESS_RUNNER=0): jobs wait for remote runners');
  }

  const server = serve({ fetch: app.fetch, port }, (info) => {
    console.log(`dms-batch gateway listening on http://localhost:${info.port} (store: ${opened.kind})`);
    const scrape = env.DMS_METRICS_TOKEN ? 'bearer DMS_METRICS_TOKEN' : 'loopback only; set DMS_METRICS_TOKEN to scrape remotely';
    console.log(`console: http://localhost:${info.port}/ui/  metrics: /metrics (${scrape})`);
  });

  // SIGTERM / SIGINT (what systemd, a container runtime or Ctrl-C send): the runner claims nothing new
  // and finishes its job for up to DMS_DRAIN_SECONDS (else releases it), then the server closes. The
  // gateway keeps answering while it drains; a second signal releases the running job at once.
  const drainSeconds = num('DMS_DRAIN_SECONDS', 30);
  let closing = false;
  const shutdown = async (why: string) => {
    if (closing) {
      console.log(`${why} again: releasing the running job now`);
      await runner?.stop();
      return;
    }
    closing = true;
    console.log(`${why}: shutting down (draining the in-process runner for up to ${drainSeconds} s, then closing the server)`);
    clearInterval(sweepTimer);
    const drained = runner ? await runner.drain(drainSeconds * 1000) : true;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Open result streams and keep-alive sockets must not hold the exit up.
      setTimeout(() => (server as { closeAllConnections?: () => void }).closeAllConnections?.(), 2000).unref();
    });
    await opened.close();
    console.log(`dms-batch gateway stopped (${drained ? 'no job left running' : 'the running job was released to the queue'})`);
    process.exit(0);
  };
  // Handlers stay installed: a repeated signal must not fall back to the default action (an abrupt kill).
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  // Started by npm (`npm start`): if npm itself goes away (SIGKILL, a crash), shut down rather than
  // keep serving as an orphan of init.
  if (env.npm_lifecycle_event) {
    const parent = process.ppid;
    const orphanWatch = setInterval(() => {
      if (process.ppid === parent) return;
      clearInterval(orphanWatch);
      void shutdown(`parent process ${parent} (npm) exited`);
    }, 250).unref();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

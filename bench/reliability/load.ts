// Load: autocannon drives Node gateways on loopback (one on SQLite, or several on one PostgreSQL) with
// single-request submissions plus status polls and result reads, then the store is audited (lost / duplicated).
import autocannon, { type Result } from 'autocannon';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, GatewayProcess, writeCatalogModels } from './gateway-process.js';
import { auditStoredJobs, type LoadStore, type PgCommit, startLoadStore } from './load-store.js';

export interface LoadConfig {
  /** Measured seconds (after a short warm-up). */
  durationS: number;
  /** Concurrent connections submitting jobs. */
  submitConnections: number;
  /** Concurrent connections polling job status and reading results. */
  readConnections: number;
  /** Jobs submitted before the measurement (gives the readers ids to poll). */
  warmupJobs: number;
  /** The store behind the gateways (default sqlite: one gateway on one file). */
  store?: LoadStore;
  /** Gateway processes, all on the one store (PostgreSQL only); each gets the connections above. */
  gateways?: number;
  /** PostgreSQL's synchronous_commit in the gateways' sessions (default on). */
  pgCommit?: PgCommit;
}

/** 4 + 2 connections: enough to keep the one gateway thread busy without queueing for its own sake. */
export const DEFAULT_LOAD_CONFIG: LoadConfig = { durationS: 20, submitConnections: 4, readConnections: 2, warmupJobs: 300 };

export interface LoadReport {
  store: LoadStore;
  gateways: number;
  submissions_per_s: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
  lost: number;
  duplicated: number;
  /** Stored jobs whose 201 the client never read: requests in flight when the generator stopped. */
  stored_without_201: number;
  accepted: number;
  duration_s: number;
  submit: { connections: number; responses: number; status: Record<string, number>; errors: number; timeouts: number; p90_ms: number; max_ms: number };
  reads: { connections: number; requests_per_s: number; p50_ms: number; p99_ms: number; status: Record<string, number>; errors: number };
  gateway_cpu_s: number;
  gateway_cpu_ms_per_request: number;
  /** SQLite: integrity_check and foreign keys; PostgreSQL: no request without its job, no job missing requests. */
  integrity_ok: boolean;
  /** Per gateway: its 201s per second and latency percentiles (the p50/p99 above are the worst gateway's). */
  per_gateway: Array<{ submissions_per_s: number; p50_ms: number; p99_ms: number }>;
  environment: { cpus: number; loadavg_1m_before: number; loadavg_1m_after: number; sqlite: string; store: string };
}

const statusCounts = (r: Result) => Object.fromEntries(Object.entries(r.statusCodeStats).map(([k, v]) => [k, Number(v.count)]));
const numResponses = (r: Result) => Object.values(r.statusCodeStats).reduce((sum, v) => sum + Number(v.count), 0);

/** CPU seconds (user + system) a process has used so far, from /proc (0 where unavailable). */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

export async function runLoad(config: LoadConfig = DEFAULT_LOAD_CONFIG, log: (m: string) => void = console.log): Promise<LoadReport> {
  const dir = mkdtempSync(join(tmpdir(), 'dms-load-'));
  const apiKey = `dms_load_${crypto.randomUUID()}`;
  writeCatalogModels(join(dir, 'models'));
  const storeKind = config.store ?? 'sqlite';
  const numGateways = storeKind === 'postgres' ? (config.gateways ?? 2) : 1;
  const store = await startLoadStore(storeKind, join(dir, 'data'), config.pgCommit);
  // The limiter stays on (its cost is part of what is measured) but far above the offered load.
  const gateways: GatewayProcess[] = [];
  for (let g = 0; g < numGateways; g++) {
    gateways.push(
      new GatewayProcess({
        dataDir: join(dir, 'data'),
        modelsDir: join(dir, 'models'),
        port: await freePort(),
        apiKey,
        env: { DMS_RATE_LIMIT_RPS: '1000000', DMS_RATE_LIMIT_BURST: '1000000', ...store.gatewayEnv },
        nodeArgs: process.env.DMS_BENCH_NODE_ARGS?.split(' ').filter(Boolean),
      }),
    );
  }
  const auth = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  const accepted = new Map<string, string>(); // load_id -> job id (201 only)
  const ids: string[] = [];
  let counter = 0;
  const body = (loadId: string) =>
    JSON.stringify({ requests: [{ custom_id: 'q', prompt: `Q:${loadId}+1=`, params: { max_tokens: 64 } }], metadata: { load_id: loadId } });

  try {
    // One at a time: on PostgreSQL the first one migrates, and the key is stored by whoever comes first.
    for (const g of gateways) await g.start();
    const sqliteLine = /sqlite: .*/.exec(gateways[0].output)?.[0] ?? 'unknown';
    const storeLine = /store: .*/.exec(gateways[0].output)?.[0] ?? 'unknown';
    log(`load: ${numGateways} gateway(s) (${storeLine}); warm-up ${config.warmupJobs} jobs`);
    for (let i = 0; i < config.warmupJobs; i++) {
      const loadId = `w${i}`;
      const res = await fetch(`${gateways[i % numGateways].url}/v1/jobs`, { method: 'POST', headers: auth, body: body(loadId) });
      if (res.status !== 201) throw new Error(`warm-up submission answered ${res.status}: ${await res.text()}`);
      const job = (await res.json()) as { id: string };
      accepted.set(loadId, job.id);
      ids.push(job.id);
    }

    const cpuNow = () => gateways.reduce((sum, g) => sum + cpuSeconds(g.child?.pid), 0);
    const before = { load: loadavg()[0], cpu: cpuNow() };
    const submitRuns = gateways.map((gateway) =>
      autocannon({
        url: gateway.url,
        connections: config.submitConnections,
        duration: config.durationS,
        timeout: 10,
        requests: [
          {
            method: 'POST',
            path: '/v1/jobs',
            headers: auth,
            setupRequest: (request, context) => {
              const loadId = `l${counter++}`;
              context.loadId = loadId;
              return { ...request, body: body(loadId) };
            },
            onResponse: (status, text, context) => {
              if (status !== 201) return;
              const id = (JSON.parse(text) as { id: string }).id;
              accepted.set(context.loadId as string, id);
              ids.push(id);
            },
          },
        ],
      }),
    );
    const pick = () => ids[Math.floor(Math.random() * ids.length)];
    const readRuns = gateways.map((gateway) =>
      autocannon({
        url: gateway.url,
        connections: config.readConnections,
        duration: config.durationS,
        timeout: 10,
        requests: [
          { method: 'GET', headers: auth, setupRequest: (request) => ({ ...request, path: `/v1/jobs/${pick()}` }) },
          { method: 'GET', headers: auth, setupRequest: (request) => ({ ...request, path: `/v1/jobs/${pick()}/results` }) },
        ],
      }),
    );
    const subs = await Promise.all(submitRuns);
    const rs = await Promise.all(readRuns);
    const gatewayCpu = cpuNow() - before.cpu;
    const loadAfter = loadavg()[0];
    for (const g of gateways) await g.stop();

    // Audit: every 201 is stored exactly once, nothing is stored twice.
    const { rows, integrityOk } = await auditStoredJobs(store);
    const storedIds = new Set(rows.map((row) => row.id));
    const perLoadId = new Map<string, number>();
    for (const row of rows) perLoadId.set(row.load_id, (perLoadId.get(row.load_id) ?? 0) + 1);
    const lost = [...accepted.values()].filter((id) => !storedIds.has(id)).length;
    const duplicated = [...perLoadId.values()].filter((n) => n > 1).length;
    const storedWithout201 = [...perLoadId.keys()].filter((loadId) => !accepted.has(loadId)).length;

    const sumOf = (results: Result[], f: (r: Result) => number) => results.reduce((sum, r) => sum + f(r), 0);
    const submitted = sumOf(subs, numResponses);
    const status: Record<string, number> = {};
    for (const sub of subs) for (const [code, n] of Object.entries(statusCounts(sub))) status[code] = (status[code] ?? 0) + n;
    const readStatus: Record<string, number> = {};
    for (const r of rs) for (const [code, n] of Object.entries(statusCounts(r))) readStatus[code] = (readStatus[code] ?? 0) + n;
    const duration = subs[0].duration;
    const worst = (f: (r: Result) => number, results: Result[]) => Math.max(...results.map(f));
    const report: LoadReport = {
      store: storeKind,
      gateways: numGateways,
      submissions_per_s: Math.round(((status['201'] ?? 0) / duration) * 10) / 10,
      p50_ms: worst((r) => r.latency.p50, subs),
      p99_ms: worst((r) => r.latency.p99, subs),
      errors: sumOf([...subs, ...rs], (r) => r.errors + r.non2xx),
      lost,
      duplicated,
      stored_without_201: storedWithout201,
      accepted: accepted.size - config.warmupJobs,
      duration_s: duration,
      submit: {
        connections: config.submitConnections * numGateways,
        responses: submitted,
        status,
        errors: sumOf(subs, (r) => r.errors),
        timeouts: sumOf(subs, (r) => r.timeouts),
        p90_ms: worst((r) => r.latency.p90, subs),
        max_ms: worst((r) => r.latency.max, subs),
      },
      reads: {
        connections: config.readConnections * numGateways,
        requests_per_s: Math.round((sumOf(rs, numResponses) / rs[0].duration) * 10) / 10,
        p50_ms: worst((r) => r.latency.p50, rs),
        p99_ms: worst((r) => r.latency.p99, rs),
        status: readStatus,
        errors: sumOf(rs, (r) => r.errors),
      },
      gateway_cpu_s: Math.round(gatewayCpu * 100) / 100,
      gateway_cpu_ms_per_request: Math.round((100_000 * gatewayCpu) / Math.max(1, submitted + sumOf(rs, numResponses))) / 100,
      integrity_ok: integrityOk,
      per_gateway: subs.map((r) => ({
        submissions_per_s: Math.round(((statusCounts(r)['201'] ?? 0) / r.duration) * 10) / 10,
        p50_ms: r.latency.p50,
        p99_ms: r.latency.p99,
      })),
      environment: { cpus: cpus().length, loadavg_1m_before: before.load, loadavg_1m_after: loadAfter, sqlite: sqliteLine, store: storeLine },
    };
    log(
      `load (${storeKind}, ${numGateways} gateway(s)): ${report.submissions_per_s} submissions/s p50 ${report.p50_ms} ms p99 ${report.p99_ms} ms; reads ${report.reads.requests_per_s}/s; ` +
        `errors ${report.errors}; lost ${lost} duplicated ${duplicated}; gateways ${report.gateway_cpu_ms_per_request} CPU-ms/request; load ${loadAfter.toFixed(1)}`,
    );
    return report;
  } finally {
    for (const g of gateways) await g.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// `tsx bench/reliability/load.ts [seconds] [submit connections] [read connections]`
if (import.meta.url === `file://${process.argv[1]}`) {
  const [durationS, submitConnections, readConnections] = process.argv.slice(2).map(Number);
  runLoad({
    ...DEFAULT_LOAD_CONFIG,
    durationS: durationS || DEFAULT_LOAD_CONFIG.durationS,
    submitConnections: submitConnections || DEFAULT_LOAD_CONFIG.submitConnections,
    readConnections: readConnections || DEFAULT_LOAD_CONFIG.readConnections,
  }).then((r) => console.log(JSON.stringify(r, null, 2)));
}

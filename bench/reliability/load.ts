// Load: autocannon drives the Node gateway on loopback with single-request submissions plus status
// polls and result reads for a bounded time, then the SQLite file is audited (lost / duplicated).
import autocannon, { type Result } from 'autocannon';
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { integrityCheck } from '../../db/better-sqlite-db.js';
import { freePort, GatewayProcess, writeCatalogModels } from './gateway-process.js';

export interface LoadConfig {
  /** Measured seconds (after a short warm-up). */
  durationS: number;
  /** Concurrent connections submitting jobs. */
  submitConnections: number;
  /** Concurrent connections polling job status and reading results. */
  readConnections: number;
  /** Jobs submitted before the measurement (gives the readers ids to poll). */
  warmupJobs: number;
}

/** 4 + 2 connections: enough to keep the one gateway thread busy without queueing for its own sake. */
export const DEFAULT_LOAD_CONFIG: LoadConfig = { durationS: 20, submitConnections: 4, readConnections: 2, warmupJobs: 300 };

export interface LoadReport {
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
  integrity_ok: boolean;
  environment: { cpus: number; loadavg_1m_before: number; loadavg_1m_after: number; sqlite: string };
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
  // The limiter stays on (its cost is part of what is measured) but far above the offered load.
  const gateway = new GatewayProcess({
    dataDir: join(dir, 'data'),
    modelsDir: join(dir, 'models'),
    port: await freePort(),
    apiKey,
    env: { DMS_RATE_LIMIT_RPS: '1000000', DMS_RATE_LIMIT_BURST: '1000000' },
    nodeArgs: process.env.DMS_BENCH_NODE_ARGS?.split(' ').filter(Boolean),
  });
  const auth = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  const accepted = new Map<string, string>(); // load_id -> job id (201 only)
  const ids: string[] = [];
  let counter = 0;
  const body = (loadId: string) =>
    JSON.stringify({ requests: [{ custom_id: 'q', prompt: `Q:${loadId}+1=`, params: { max_tokens: 64 } }], metadata: { load_id: loadId } });

  try {
    await gateway.start();
    const sqliteLine = /sqlite: .*/.exec(gateway.output)?.[0] ?? 'unknown';
    log(`load: gateway on ${gateway.url} (${sqliteLine}); warm-up ${config.warmupJobs} jobs`);
    for (let i = 0; i < config.warmupJobs; i++) {
      const loadId = `w${i}`;
      const res = await fetch(`${gateway.url}/v1/jobs`, { method: 'POST', headers: auth, body: body(loadId) });
      if (res.status !== 201) throw new Error(`warm-up submission answered ${res.status}: ${await res.text()}`);
      const job = (await res.json()) as { id: string };
      accepted.set(loadId, job.id);
      ids.push(job.id);
    }

    const before = { load: loadavg()[0], cpu: cpuSeconds(gateway.child?.pid) };
    const submit = autocannon({
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
    });
    const pick = () => ids[Math.floor(Math.random() * ids.length)];
    const reads = autocannon({
      url: gateway.url,
      connections: config.readConnections,
      duration: config.durationS,
      timeout: 10,
      requests: [
        { method: 'GET', headers: auth, setupRequest: (request) => ({ ...request, path: `/v1/jobs/${pick()}` }) },
        { method: 'GET', headers: auth, setupRequest: (request) => ({ ...request, path: `/v1/jobs/${pick()}/results` }) },
      ],
    });
    const [s, r] = await Promise.all([submit, reads]);
    const gatewayCpu = cpuSeconds(gateway.child?.pid) - before.cpu;
    const loadAfter = loadavg()[0];
    await gateway.stop();

    // Audit: every 201 is stored exactly once, nothing is stored twice.
    const db = new Database(join(dir, 'data/dms.sqlite'), { readonly: true });
    const rows = db.prepare(`SELECT id, json_extract(metadata_json, '$.load_id') AS load_id FROM jobs`).all() as Array<{ id: string; load_id: string }>;
    const integrity = integrityCheck(db);
    db.close();
    const storedIds = new Set(rows.map((row) => row.id));
    const perLoadId = new Map<string, number>();
    for (const row of rows) perLoadId.set(row.load_id, (perLoadId.get(row.load_id) ?? 0) + 1);
    const lost = [...accepted.values()].filter((id) => !storedIds.has(id)).length;
    const duplicated = [...perLoadId.values()].filter((n) => n > 1).length;
    const storedWithout201 = [...perLoadId.keys()].filter((loadId) => !accepted.has(loadId)).length;

    const submitted = numResponses(s);
    const status = statusCounts(s);
    const report: LoadReport = {
      submissions_per_s: Math.round(((status['201'] ?? 0) / s.duration) * 10) / 10,
      p50_ms: s.latency.p50,
      p99_ms: s.latency.p99,
      errors: s.errors + s.non2xx + r.errors + r.non2xx,
      lost,
      duplicated,
      stored_without_201: storedWithout201,
      accepted: accepted.size - config.warmupJobs,
      duration_s: s.duration,
      submit: {
        connections: config.submitConnections,
        responses: submitted,
        status,
        errors: s.errors,
        timeouts: s.timeouts,
        p90_ms: s.latency.p90,
        max_ms: s.latency.max,
      },
      reads: {
        connections: config.readConnections,
        requests_per_s: Math.round((numResponses(r) / r.duration) * 10) / 10,
        p50_ms: r.latency.p50,
        p99_ms: r.latency.p99,
        status: statusCounts(r),
        errors: r.errors,
      },
      gateway_cpu_s: Math.round(gatewayCpu * 100) / 100,
      gateway_cpu_ms_per_request: Math.round((100_000 * gatewayCpu) / Math.max(1, submitted + numResponses(r))) / 100,
      integrity_ok: integrity.ok,
      environment: { cpus: cpus().length, loadavg_1m_before: before.load, loadavg_1m_after: loadAfter, sqlite: sqliteLine },
    };
    log(
      `load: ${report.submissions_per_s} submissions/s p50 ${report.p50_ms} ms p99 ${report.p99_ms} ms; reads ${report.reads.requests_per_s}/s; ` +
        `errors ${report.errors}; lost ${lost} duplicated ${duplicated}; gateway ${report.gateway_cpu_ms_per_request} CPU-ms/request; load ${loadAfter.toFixed(1)}`,
    );
    return report;
  } finally {
    await gateway.stop();
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

// Gateway faults: the Node gateway is SIGKILLed while clients submit jobs, then restarted on the
// same data dir; every job that got a 201 must be there with all of its requests, and the file intact.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { integrityCheck } from '../../db/better-sqlite-db.js';
import { freePort, GatewayProcess, writeCatalogModels } from './gateway-process.js';

export interface GatewayFaultConfig {
  /** Kill/restart rounds. */
  rounds: number;
  /** Concurrent submitting clients. */
  clients: number;
  /** Each round submits for uniform(minRunMs, maxRunMs) before the SIGKILL. */
  minRunMs: number;
  maxRunMs: number;
  /** Requests per job: uniform 1..maxRequestsPerJob. */
  maxRequestsPerJob: number;
}

export const DEFAULT_GATEWAY_FAULT_CONFIG: GatewayFaultConfig = { rounds: 5, clients: 8, minRunMs: 500, maxRunMs: 2500, maxRequestsPerJob: 20 };

export interface GatewayFaultReport {
  gateway_kills: number;
  accepted_jobs: number;
  accepted_jobs_lost: number;
  /** Accepted jobs stored with fewer or more requests than submitted (a torn write). */
  partial_jobs: number;
  /** Submissions cut off by the kill (connection reset): no 201, so no promise was made. */
  submissions_cut_off: number;
  integrity_ok: boolean;
  synchronous: string;
}

/** Submits until `stop()`; records every 201 with its request count. */
function submitter(url: string, apiKey: string, maxRequests: number, accepted: Map<string, number>) {
  let running = true;
  let cutOff = 0;
  let n = 0;
  const loop = async () => {
    while (running) {
      const count = 1 + (n++ % maxRequests);
      const requests = Array.from({ length: count }, (_, i) => ({ custom_id: `r${i}`, prompt: `Q:${n}+${i}=` }));
      try {
        const res = await fetch(`${url}/v1/jobs`, {
          method: 'POST',
          headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ requests }),
          signal: AbortSignal.timeout(5_000),
        });
        if (res.status === 201) accepted.set(((await res.json()) as { id: string }).id, count);
        else await res.body?.cancel();
      } catch {
        cutOff++;
        return; // the gateway is gone: this client stops until the next round
      }
    }
  };
  const done = loop();
  return {
    stop: async () => {
      running = false;
      await done;
      return cutOff;
    },
  };
}

export async function runGatewayFaults(
  config: GatewayFaultConfig = DEFAULT_GATEWAY_FAULT_CONFIG,
  log: (m: string) => void = console.log,
): Promise<GatewayFaultReport> {
  const dir = mkdtempSync(join(tmpdir(), 'dms-gateway-faults-'));
  const apiKey = `dms_gwfaults_${crypto.randomUUID()}`;
  writeCatalogModels(join(dir, 'models'));
  const gateway = new GatewayProcess({
    dataDir: join(dir, 'data'),
    modelsDir: join(dir, 'models'),
    port: await freePort(),
    apiKey,
    env: { DMS_RATE_LIMIT_RPS: '0' },
  });
  const accepted = new Map<string, number>();
  let cutOff = 0;
  try {
    for (let round = 0; round < config.rounds; round++) {
      await gateway.start();
      const clients = Array.from({ length: config.clients }, () => submitter(gateway.url, apiKey, config.maxRequestsPerJob, accepted));
      await new Promise((r) => setTimeout(r, config.minRunMs + Math.random() * (config.maxRunMs - config.minRunMs)));
      await gateway.kill('SIGKILL');
      for (const c of clients) cutOff += await c.stop();
      log(`gateway faults: round ${round + 1}: SIGKILL; ${accepted.size} jobs accepted so far`);
    }

    // Restart once more and check every accepted job through the API, then the file itself.
    await gateway.start();
    const synchronous = /synchronous=(\w+)/.exec(gateway.output)?.[1] ?? 'unknown';
    let lost = 0;
    let partial = 0;
    for (const [id, count] of accepted) {
      const res = await fetch(`${gateway.url}/v1/jobs/${id}`, { headers: { authorization: `Bearer ${apiKey}` } });
      if (res.status !== 200) {
        lost++;
        continue;
      }
      const job = (await res.json()) as { request_counts: { total: number; queued: number } };
      if (job.request_counts.total !== count || job.request_counts.queued !== count) partial++;
    }
    await gateway.stop();
    const db = new Database(join(dir, 'data/dms.sqlite'));
    const integrity = integrityCheck(db);
    // Requests without their job (or a job without its requests) would also be a torn write.
    const orphans = db.prepare('SELECT count(*) AS n FROM jobs j WHERE num_requests != (SELECT count(*) FROM requests r WHERE r.job_id = j.id)').get() as {
      n: number;
    };
    db.close();
    const report: GatewayFaultReport = {
      gateway_kills: config.rounds,
      accepted_jobs: accepted.size,
      accepted_jobs_lost: lost,
      partial_jobs: partial + orphans.n,
      submissions_cut_off: cutOff,
      integrity_ok: integrity.ok,
      synchronous,
    };
    log(
      `gateway faults: ${config.rounds} kills, ${accepted.size} accepted, ${lost} lost, ${report.partial_jobs} partial, integrity ${integrity.ok ? 'ok' : integrity.problems.join('; ')}`,
    );
    return report;
  } finally {
    await gateway.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runGatewayFaults().then((r) => console.log(JSON.stringify(r, null, 2)));
}

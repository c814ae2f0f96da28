// Several gateways, one PostgreSQL: two gateway processes (each with its in-process runner) and two
// remote runners share one queue while jobs go to both gateways and runners and one gateway are SIGKILLed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, GatewayProcess } from './gateway-process.js';
import { startPostgres } from './postgres-server.js';
import { auditJobs, isMidJob, type JobAudit, killNow, type Runner, sleep, spawnRemoteRunner } from './runner-faults.js';
import { TINY_MODEL, writeTinyModel } from './tiny-model.js';
import { mulberry32 } from '../../tasks/rng.js';

export interface ClusterFaultConfig {
  numJobs: number;
  requestsPerJob: number;
  /** Submissions in flight at once, spread over both gateways. */
  clients: number;
  /** Each client waits this long between submissions, so that they keep arriving while gateway A restarts. */
  submitGapMs: number;
  /** Kills of runners (remote ones) and of gateway A (restarted each time). */
  maxRunnerKills: number;
  maxGatewayKills: number;
  minGapMs: number;
  maxGapMs: number;
  deadlineMs: number;
  seed: number;
  maxTokens: number;
}

export const DEFAULT_CLUSTER_FAULT_CONFIG: ClusterFaultConfig = {
  numJobs: 200,
  requestsPerJob: 2,
  clients: 4,
  submitGapMs: 300,
  maxRunnerKills: 12,
  maxGatewayKills: 3,
  minGapMs: 300,
  maxGapMs: 1200,
  deadlineMs: 240_000,
  seed: 5,
  maxTokens: 32,
};

export interface ClusterFaultReport extends JobAudit {
  gateways: number;
  remote_runners: number;
  runner_kills: number;
  gateway_kills: number;
  /** Jobs answered 201 (or replayed) by either gateway. */
  accepted_jobs: number;
  accepted_per_gateway: Record<string, number>;
  /** Submissions that lost their connection (a killed gateway) and were retried on the other one with the same Idempotency-Key. */
  submissions_retried: number;
  /** Jobs in the store that no client was told about: a retried submission stored twice would show here. */
  unaccounted_jobs: number;
  requests: number;
  seconds: number;
}

/** Every job of the tenant, page by page (a page holds at most 100). */
async function listAllJobs(baseUrl: string, headers: Record<string, string>): Promise<Array<{ id: string; status: string }>> {
  const out: Array<{ id: string; status: string }> = [];
  let after = '';
  for (;;) {
    const res = await fetch(`${baseUrl}/v1/jobs?limit=100${after ? `&after=${after}` : ''}`, { headers });
    if (res.status !== 200) throw new Error(`listing jobs answered ${res.status}: ${await res.text()}`);
    const page = (await res.json()) as { data: Array<{ id: string; status: string }>; has_more: boolean; next_after: string | null };
    out.push(...page.data);
    if (!page.has_more || !page.next_after) return out;
    after = page.next_after;
  }
}

export async function runClusterFaults(
  config: ClusterFaultConfig = DEFAULT_CLUSTER_FAULT_CONFIG,
  log: (m: string) => void = console.log,
): Promise<ClusterFaultReport> {
  const started = Date.now();
  const random = mulberry32(config.seed);
  const dir = mkdtempSync(join(tmpdir(), 'dms-cluster-'));
  const modelsDir = join(dir, 'models');
  await writeTinyModel(modelsDir);
  const pg = await startPostgres();
  const apiKey = `dms_cluster_${crypto.randomUUID()}`;
  const runnerToken = `runner_${crypto.randomUUID()}`;
  const env = {
    DMS_DATABASE_URL: pg.url,
    DMS_PG_POOL_SIZE: '4',
    DMS_INPROCESS_RUNNER: '1',
    // Short leases so that a killed runner's job comes back quickly; many attempts so it can finish.
    DMS_LEASE_SECONDS: '2',
    DMS_SWEEP_SECONDS: '0.5',
    DMS_MAX_ATTEMPTS: '20',
    // One client key does all the submitting and polling: the per-key limit must not be what is tested.
    DMS_RATE_LIMIT_RPS: '1000000',
    DMS_RATE_LIMIT_BURST: '1000000',
  };
  const gateways = await Promise.all(
    ['a', 'b'].map(async (name) => new GatewayProcess({ dataDir: join(dir, name), modelsDir, port: await freePort(), apiKey, runnerToken, env })),
  );
  const [victimGateway, steadyGateway] = gateways;
  const runners: Runner[] = [];
  const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  const accepted: Array<{ id: string; customIds: string[] }> = [];
  const acceptedPer: Record<string, number> = { a: 0, b: 0 };
  let retried = 0;

  /** Submits job j to gateway j % 2; a dropped connection is retried on the other gateway with the same key. */
  async function submit(j: number): Promise<void> {
    const customIds = Array.from({ length: config.requestsPerJob }, (_, i) => `j${j}r${i}`);
    const requests = customIds.map((custom_id, i) => ({
      custom_id,
      prompt: `Q:${j}+${i}=`,
      params: { max_tokens: Math.floor(config.maxTokens / 4) + Math.floor(random() * ((config.maxTokens * 3) / 4)), temperature: 0, seed: j },
    }));
    const body = JSON.stringify({ model: TINY_MODEL, requests });
    for (let attempt = 0; attempt < 20; attempt++) {
      const gw = gateways[(j + attempt) % 2];
      try {
        const res = await fetch(`${gw.url}/v1/jobs`, { method: 'POST', headers: { ...headers, 'idempotency-key': `job-${j}` }, body });
        if (res.status === 201 || res.status === 200) {
          accepted.push({ id: ((await res.json()) as { id: string }).id, customIds });
          acceptedPer[gw === victimGateway ? 'a' : 'b']++;
          return;
        }
        if (res.status !== 503) throw new Error(`submission answered ${res.status}: ${await res.text()}`);
      } catch (error) {
        if ((error as Error).message.startsWith('submission answered')) throw error;
      }
      retried++;
      await sleep(50);
    }
    throw new Error(`job ${j} was not accepted by either gateway`);
  }

  try {
    await Promise.all(gateways.map((g) => g.start()));
    runners.push(spawnRemoteRunner(victimGateway.url, runnerToken, 'remote-a-0', modelsDir));
    runners.push(spawnRemoteRunner(steadyGateway.url, runnerToken, 'remote-b-0', modelsDir));
    log(`cluster faults: 2 gateways (each with an in-process runner) and 2 remote runners on ${pg.url}`);

    let next = 0;
    const submitting = Promise.all(
      Array.from({ length: config.clients }, async () => {
        while (next < config.numJobs) {
          await submit(next++);
          await sleep(config.submitGapMs);
        }
      }),
    );
    let submitted = false;
    void submitting.then(() => (submitted = true));

    let runnerKills = 0;
    let gatewayKills = 0;
    let generation = 0;
    const open = async () => (await listAllJobs(steadyGateway.url, headers)).filter((j) => !['completed', 'failed', 'canceled'].includes(j.status)).length;
    while (Date.now() - started < config.deadlineMs) {
      await sleep(config.minGapMs + random() * (config.maxGapMs - config.minGapMs));
      if (submitted && (await open()) === 0) break;
      // Gateway A dies first while submissions are still arriving, then at random moments.
      if (gatewayKills < config.maxGatewayKills && (gatewayKills === 0 ? next > config.numJobs / 5 : random() < 0.25)) {
        await victimGateway.kill('SIGKILL');
        gatewayKills++;
        await sleep(200 + random() * 800);
        await victimGateway.start();
        continue;
      }
      if (runnerKills >= config.maxRunnerKills) continue;
      const busy = runners.filter(isMidJob);
      const pool = busy.length > 0 ? busy : runners;
      const victim = pool[Math.floor(random() * pool.length)];
      await killNow(victim.child);
      runnerKills++;
      const side = victim.id.split('-')[1];
      runners[runners.indexOf(victim)] = spawnRemoteRunner(
        (side === 'a' ? victimGateway : steadyGateway).url,
        runnerToken,
        `remote-${side}-${++generation}`,
        modelsDir,
      );
    }
    await submitting;

    const audit = await auditJobs(steadyGateway.url, apiKey, accepted);
    const all = await listAllJobs(steadyGateway.url, headers);
    const known = new Set(accepted.map((a) => a.id));
    const report: ClusterFaultReport = {
      gateways: 2,
      remote_runners: 2,
      runner_kills: runnerKills,
      gateway_kills: gatewayKills,
      accepted_jobs: known.size,
      accepted_per_gateway: acceptedPer,
      submissions_retried: retried,
      unaccounted_jobs: all.filter((j) => !known.has(j.id)).length,
      requests: accepted.length * config.requestsPerJob,
      ...audit,
      seconds: Math.round((Date.now() - started) / 100) / 10,
    };
    log(
      `cluster faults: ${report.accepted_jobs} jobs accepted (a ${acceptedPer.a}, b ${acceptedPer.b}), ${gatewayKills} gateway and ${runnerKills} runner kills: ` +
        `${audit.requests_without_exactly_one_result} requests without exactly one result, ${audit.jobs_missing} missing, ` +
        `${audit.jobs_not_finished} unfinished, ${audit.usage_mismatches} usage mismatches, ${report.unaccounted_jobs} unaccounted, ${report.seconds} s`,
    );
    return report;
  } finally {
    for (const r of runners) await killNow(r.child);
    for (const g of gateways) await g.stop();
    pg.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const numJobs = Number(process.argv[2] ?? DEFAULT_CLUSTER_FAULT_CONFIG.numJobs);
  runClusterFaults({ ...DEFAULT_CLUSTER_FAULT_CONFIG, numJobs }).then((r) => console.log(JSON.stringify(r, null, 2)));
}

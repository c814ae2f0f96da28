// `npm run bench:reliability -- --store postgres`: two gateways on one PostgreSQL against one gateway on
// SQLite under the same load in the same run, then the cluster fault run; writes JSON and a markdown table.
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname } from 'node:path';
import { DEFAULT_CLUSTER_FAULT_CONFIG, runClusterFaults } from './cluster-faults.js';
import { DEFAULT_LOAD_CONFIG, type LoadReport, runLoad } from './load.js';
import { LOAD_PG_POOL_SIZE } from './load-store.js';

const GOAL = { submissions_per_s: 1000, p99_ms: 50 };

function postgresVersion(): string {
  try {
    return execSync('ls /usr/lib/postgresql', { encoding: 'utf8' }).trim().split('\n').join(', ');
  } catch {
    return 'unknown';
  }
}

const row = (name: string, r: LoadReport) =>
  `| ${name} | ${r.gateways} | ${r.submit.connections} | ${r.submissions_per_s} | ${r.p50_ms} | ${r.p99_ms} | ${r.reads.requests_per_s} | ${r.errors} | ${r.lost} | ${r.duplicated} | ${r.gateway_cpu_ms_per_request} |`;

function markdown(result: Record<string, unknown>): string {
  const sqlite = result.sqlite as LoadReport;
  const postgres = result.postgres as LoadReport;
  const postgresAsync = result.postgres_synchronous_commit_off as LoadReport;
  const cluster = result.cluster as Record<string, unknown> | undefined;
  const meets = (r: LoadReport) => r.submissions_per_s >= GOAL.submissions_per_s && r.p99_ms < GOAL.p99_ms && r.lost === 0 && r.duplicated === 0;
  const env = result.environment as { cpus: number; loadavg_at_start: number[] };
  return [
    '# Two gateways on PostgreSQL against one on SQLite',
    '',
    `Measured ${result.generated_at} by \`npm run bench:reliability -- --store postgres\` on ${env.cpus} CPU cores (load average at start ${env.loadavg_at_start.join(' / ')}; the machine is shared).`,
    `Each gateway gets ${DEFAULT_LOAD_CONFIG.submitConnections} submitting and ${DEFAULT_LOAD_CONFIG.readConnections} reading autocannon connections for ${sqlite.duration_s} s`,
    `(single-request jobs; reads poll status and results). Gateways, PostgreSQL ${postgresVersion()} (fsync on; pool of ${LOAD_PG_POOL_SIZE} per gateway)`,
    "and the load generator all share the same cores. p50/p99 for two gateways are the worse gateway's.",
    "synchronous_commit on (the default) waits for each commit's WAL flush; off (DMS_PG_SYNCHRONOUS_COMMIT=off) does not and",
    "may lose the last commits if the server or machine crashes, about what SQLite's NORMAL risks on power loss.",
    '',
    '| store | gateways | submit connections | submissions/s | p50 ms | p99 ms | reads/s | errors | lost | duplicated | gateway CPU-ms/request |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    row('SQLite (better-sqlite3, WAL NORMAL)', sqlite),
    row('PostgreSQL, synchronous_commit on', postgres),
    row('PostgreSQL, synchronous_commit off', postgresAsync),
    '',
    `Goal (issue 16): at least ${GOAL.submissions_per_s} submissions/s over the two gateways with p99 under ${GOAL.p99_ms} ms, none lost or duplicated: ${meets(postgres) ? 'met' : 'not met'} with synchronous_commit on, ${meets(postgresAsync) ? 'met' : 'not met'} with it off, on this machine.`,
    '',
    ...(cluster
      ? [
          '## Cluster faults',
          '',
          `${cluster.accepted_jobs} jobs (${cluster.requests} requests) submitted to two gateways on one PostgreSQL, each with its in-process runner, plus two remote runners;`,
          `${cluster.gateway_kills} SIGKILLs of gateway A (restarted) and ${cluster.runner_kills} of remote runners; ${cluster.submissions_retried} submissions retried on the other gateway with the same Idempotency-Key.`,
          `Requests without exactly one result: ${cluster.requests_without_exactly_one_result}; accepted jobs missing: ${cluster.jobs_missing}; jobs stored twice or unaccounted: ${cluster.unaccounted_jobs};`,
          `unfinished: ${cluster.jobs_not_finished}; usage mismatches: ${cluster.usage_mismatches}; ${cluster.seconds} s${cluster.measured_at ? ` (measured ${cluster.measured_at})` : ''}.`,
          '',
        ]
      : []),
  ].join('\n');
}

export async function runPostgresBench(out: string, opts: { durationS: number; cluster: boolean }): Promise<void> {
  const generatedAt = new Date().toISOString();
  const environment = { cpus: cpus().length, loadavg_at_start: loadavg().map((x) => Math.round(x * 100) / 100) };
  const sqlite = await runLoad({ ...DEFAULT_LOAD_CONFIG, durationS: opts.durationS, store: 'sqlite' });
  const postgres = await runLoad({ ...DEFAULT_LOAD_CONFIG, durationS: opts.durationS, store: 'postgres', gateways: 2 });
  const postgresAsync = await runLoad({ ...DEFAULT_LOAD_CONFIG, durationS: opts.durationS, store: 'postgres', gateways: 2, pgCommit: 'off' });
  // A run without the cluster part keeps the previous cluster numbers (with their own measured_at).
  const previous = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as { cluster?: Record<string, unknown> }) : {};
  const cluster = opts.cluster ? { ...(await runClusterFaults(DEFAULT_CLUSTER_FAULT_CONFIG)), measured_at: new Date().toISOString() } : previous.cluster;
  const result = {
    generated_at: generatedAt,
    environment: { ...environment, loadavg_at_end: loadavg().map((x) => Math.round(x * 100) / 100) },
    goal: GOAL,
    sqlite,
    postgres,
    postgres_synchronous_commit_off: postgresAsync,
    cluster,
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(out.replace(/\.json$/, '.md'), `${markdown(result)}\n`);
  console.log(`wrote ${out} and its .md`);
}

// `npm run bench:reliability -- --store postgres`: two gateways on one PostgreSQL against one gateway on
// SQLite under the same load, in interleaved rounds, then the cluster fault run; writes JSON and a markdown table.
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

const CONFIGS = [
  { key: 'sqlite', name: 'SQLite (better-sqlite3, WAL NORMAL), 1 gateway' },
  { key: 'postgres', name: 'PostgreSQL, 2 gateways, synchronous_commit on' },
  { key: 'postgres_synchronous_commit_off', name: 'PostgreSQL, 2 gateways, synchronous_commit off' },
] as const;
type ConfigKey = (typeof CONFIGS)[number]['key'];
type Round = Record<ConfigKey, LoadReport>;

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Median over the rounds of what the goal is about, and the sums that must be zero. */
function summarise(rounds: Round[], key: ConfigKey) {
  const reports = rounds.map((r) => r[key]);
  return {
    submissions_per_s_median: median(reports.map((r) => r.submissions_per_s)),
    p50_ms_median: median(reports.map((r) => r.p50_ms)),
    p99_ms_median: median(reports.map((r) => r.p99_ms)),
    accepted: reports.reduce((n, r) => n + r.accepted, 0),
    errors: reports.reduce((n, r) => n + r.errors, 0),
    lost: reports.reduce((n, r) => n + r.lost, 0),
    duplicated: reports.reduce((n, r) => n + r.duplicated, 0),
  };
}

const row = (round: string, name: string, r: LoadReport) =>
  `| ${round} | ${name} | ${r.submissions_per_s} | ${r.p50_ms} | ${r.p99_ms} | ${r.reads.requests_per_s} | ${r.errors} | ${r.lost} | ${r.duplicated} | ${r.gateway_cpu_ms_per_request} | ${r.environment.loadavg_1m_before} |`;

function markdown(result: {
  generated_at: string;
  environment: { cpus: number; loadavg_at_start: number[] };
  rounds: Round[];
  cluster?: Record<string, unknown>;
}): string {
  const { rounds, cluster, environment: env } = result;
  const summary = Object.fromEntries(CONFIGS.map((c) => [c.key, summarise(rounds, c.key)])) as Record<ConfigKey, ReturnType<typeof summarise>>;
  const meets = (k: ConfigKey) =>
    summary[k].submissions_per_s_median >= GOAL.submissions_per_s &&
    summary[k].p99_ms_median < GOAL.p99_ms &&
    summary[k].lost === 0 &&
    summary[k].duplicated === 0;
  return [
    '# Two gateways on PostgreSQL against one on SQLite',
    '',
    `Measured ${result.generated_at} by \`npm run bench:reliability -- --store postgres\` on ${env.cpus} CPU cores (load average at start ${env.loadavg_at_start.join(' / ')}; the machine is shared).`,
    `${rounds.length} rounds; each runs the three set-ups one after another, so that a change in the machine's load hits all three alike.`,
    `Each gateway gets ${DEFAULT_LOAD_CONFIG.submitConnections} submitting and ${DEFAULT_LOAD_CONFIG.readConnections} reading autocannon connections for ${rounds[0].sqlite.duration_s} s`,
    `(single-request jobs; reads poll status and results). Gateways, PostgreSQL ${postgresVersion()} (fsync on; pool of ${LOAD_PG_POOL_SIZE} per gateway)`,
    "and the load generator all share the same cores. p50/p99 for two gateways are the worse gateway's.",
    "synchronous_commit on (the default) waits for each commit's WAL flush; off (DMS_PG_SYNCHRONOUS_COMMIT=off) does not and",
    "may lose the last commits if the server or machine crashes, about what SQLite's NORMAL risks on power loss.",
    '',
    '| round | set-up | submissions/s | p50 ms | p99 ms | reads/s | errors | lost | duplicated | gateway CPU-ms/request | load average before |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rounds.flatMap((r, i) => CONFIGS.map((c) => row(String(i + 1), c.name, r[c.key]))),
    '',
    '| set-up | median submissions/s | median p50 ms | median p99 ms | accepted (all rounds) | errors | lost | duplicated |',
    '|---|---|---|---|---|---|---|---|',
    ...CONFIGS.map((c) => {
      const m = summary[c.key];
      return `| ${c.name} | ${m.submissions_per_s_median} | ${m.p50_ms_median} | ${m.p99_ms_median} | ${m.accepted} | ${m.errors} | ${m.lost} | ${m.duplicated} |`;
    }),
    '',
    `Goal (issue 16): at least ${GOAL.submissions_per_s} submissions/s over the two gateways with p99 under ${GOAL.p99_ms} ms, none lost or duplicated: ${meets('postgres') ? 'met' : 'not met'} with synchronous_commit on, ${meets('postgres_synchronous_commit_off') ? 'met' : 'not met'} with it off (medians), on this machine.`,
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

export async function runPostgresBench(out: string, opts: { durationS: number; rounds: number; cluster: boolean }): Promise<void> {
  const generatedAt = new Date().toISOString();
  const environment = { cpus: cpus().length, loadavg_at_start: loadavg().map((x) => Math.round(x * 100) / 100) };
  const base = { ...DEFAULT_LOAD_CONFIG, durationS: opts.durationS };
  const rounds: Round[] = [];
  for (let i = 0; i < opts.rounds; i++) {
    rounds.push({
      sqlite: await runLoad({ ...base, store: 'sqlite' }),
      postgres: await runLoad({ ...base, store: 'postgres', gateways: 2 }),
      postgres_synchronous_commit_off: await runLoad({ ...base, store: 'postgres', gateways: 2, pgCommit: 'off' }),
    });
  }
  // A run without the cluster part keeps the previous cluster numbers (with their own measured_at).
  const previous = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as { cluster?: Record<string, unknown> }) : {};
  const write = (cluster: Record<string, unknown> | undefined) => {
    const result = {
      generated_at: generatedAt,
      environment: { ...environment, loadavg_at_end: loadavg().map((x) => Math.round(x * 100) / 100) },
      goal: GOAL,
      summary: Object.fromEntries(CONFIGS.map((c) => [c.key, summarise(rounds, c.key)])),
      rounds,
      cluster,
    };
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(out.replace(/\.json$/, '.md'), `${markdown(result)}\n`);
    console.log(`wrote ${out} and its .md`);
  };
  // The load numbers are written first, so that a failing cluster run cannot lose them.
  write(previous.cluster);
  if (opts.cluster) write({ ...(await runClusterFaults(DEFAULT_CLUSTER_FAULT_CONFIG)), measured_at: new Date().toISOString() });
}

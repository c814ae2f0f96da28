// `npm run bench:reliability`: load, faults (runner and gateway SIGKILLs, full disk, locked
// database) and fuzzing, one after another; writes bench/results/reliability.json.
// Flags: --only load,faults,fuzz  --duration S (load)  --fuzz-runs N  --out FILE
// --store postgres: two gateways on PostgreSQL against one on SQLite (--rounds N, default 3,
// interleaved), then the cluster faults (--only load skips those); writes bench/results/postgres.json and .md.
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_FUZZ_CONFIG, runFuzz } from './fuzz.js';
import { DEFAULT_GATEWAY_FAULT_CONFIG, runGatewayFaults } from './gateway-faults.js';
import { REPO_ROOT } from './gateway-process.js';
import { DEFAULT_LOAD_CONFIG, runLoad } from './load.js';
import { runPostgresBench } from './postgres-bench.js';
import { runRawHttpFuzz } from './raw-http-fuzz.js';
import { DEFAULT_RUNNER_FAULT_CONFIG, runRunnerFaults } from './runner-faults.js';
import { runDiskFull, runLocked } from './storage-faults.js';

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    duration: { type: 'string' },
    'fuzz-runs': { type: 'string' },
    out: { type: 'string' },
    store: { type: 'string' },
    rounds: { type: 'string' },
  },
});
const parts = new Set((values.only ?? 'load,faults,fuzz').split(','));
const out = values.out ?? join(REPO_ROOT, 'bench/results/reliability.json');

/** Other processes on the machine (the CPU is shared): the busiest few, for the record. */
function busiestProcesses(): string[] {
  try {
    return execSync('ps -eo pcpu,args --sort=-pcpu', { encoding: 'utf8' })
      .split('\n')
      .slice(1, 5)
      .map((l) =>
        l
          .trim()
          .replace(/\S*node --require \S+ --import \S+ /, 'node (tsx) ')
          .slice(0, 120),
      )
      .filter(Boolean);
  } catch {
    return [];
  }
}

async function main(): Promise<void> {
  if (values.store === 'postgres') {
    const durationS = Number(values.duration ?? DEFAULT_LOAD_CONFIG.durationS);
    const rounds = Number(values.rounds ?? 3);
    return runPostgresBench(values.out ?? join(REPO_ROOT, 'bench/results/postgres.json'), { durationS, rounds, cluster: values.only !== 'load' });
  }
  if (values.store && values.store !== 'sqlite') throw new Error(`--store must be sqlite or postgres, got "${values.store}"`);
  const startedAt = new Date().toISOString();
  const snapshot = () => ({ loadavg: loadavg().map((x) => Math.round(x * 100) / 100), busiest_processes: busiestProcesses() });
  const environment = { cpus: cpus().length, at_start: snapshot() };
  // Parts not run this time keep their previous numbers (with their own measured_at).
  const previous = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>) : {};
  const result: Record<string, unknown> = { ...previous, generated_at: startedAt, environment };

  if (parts.has('load')) {
    const durationS = Number(values.duration ?? DEFAULT_LOAD_CONFIG.durationS);
    const machine = snapshot();
    const main = await runLoad({ ...DEFAULT_LOAD_CONFIG, durationS });
    // The same mix at twice the concurrency: more queueing per request, recorded for comparison.
    const doubled = await runLoad({ ...DEFAULT_LOAD_CONFIG, durationS, submitConnections: 8, readConnections: 4 });
    result.load = { ...main, measured_at: new Date().toISOString(), machine_at_start: machine, double_concurrency: doubled };
  }
  if (parts.has('faults')) {
    const runner = await runRunnerFaults(DEFAULT_RUNNER_FAULT_CONFIG);
    const gateway = await runGatewayFaults(DEFAULT_GATEWAY_FAULT_CONFIG);
    const diskFull = await runDiskFull();
    const locked = await runLocked();
    result.faults = {
      runner_kills: runner.runner_kills,
      jobs: runner.jobs,
      requests_without_exactly_one_result: runner.requests_without_exactly_one_result,
      gateway_kills: gateway.gateway_kills,
      accepted_jobs_lost: gateway.accepted_jobs_lost + diskFull.accepted_jobs_lost,
      runner,
      gateway,
      disk_full: diskFull,
      locked,
      measured_at: new Date().toISOString(),
    };
  }
  if (parts.has('fuzz')) {
    const numRuns = Number(values['fuzz-runs'] ?? 20_000);
    const app = await runFuzz({ ...DEFAULT_FUZZ_CONFIG, numRuns }, 'count');
    const raw = await runRawHttpFuzz(Math.max(200, Math.round(numRuns / 20)));
    console.log(`fuzz: ${app.requests} requests through the app, ${app.server_errors} 5xx, integrity ${app.integrity_ok ? 'ok' : 'BROKEN'}`);
    result.fuzz = {
      requests: app.requests + raw.requests,
      server_errors: app.server_errors + raw.server_errors,
      app,
      raw_http: raw,
      measured_at: new Date().toISOString(),
    };
  }
  (result.environment as Record<string, unknown>).at_end = snapshot();
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${out}`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);

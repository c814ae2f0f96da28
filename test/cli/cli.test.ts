// The `dms` command as a user runs it (node cli/bin.mjs) against a Node gateway on loopback with a
// remote engine runner on tiny random weights: help, submit/status/watch/results/cancel, local run, exit codes.
import { serve, type ServerType } from '@hono/node-server';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderProgress, rates } from '../../cli/progress.js';
import { openBetterSqlite } from '../../db/better-sqlite-db.js';
import { createJobStore, type JobStore } from '../../db/job-store.js';
import { createApp } from '../../gateway/app.js';
import { loadModelCatalog } from '../../gateway/model-catalog.js';
import { EngineExecutor } from '../../gpu-runner/engine-executor.js';
import { HttpJobSource } from '../../gpu-runner/http-source.js';
import { ModelRegistry } from '../../gpu-runner/model-registry.js';
import { RunnerLoop } from '../../gpu-runner/runner-loop.js';
import { resolveParams } from '../../protocol/index.js';
import { killAll, ROOT, runToEnd, startService } from '../runner-processes/processes.js';
import { writeTinyModels } from '../runner-processes/tiny-models.js';

const RUNNER_TOKEN = 'cli-test-runner-token';
const dir = mkdtempSync(join(tmpdir(), 'dms-cli-'));
const sqlDb = openBetterSqlite(':memory:');
let modelsDir: string;
let server: ServerType;
let base: string;
let key: string;
let runner: RunnerLoop;
let store: JobStore;

/** Runs `dms ARGS` to completion; kills it after timeoutMs. */
async function dms(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 60_000) {
  const service = startService(process.execPath, [join(ROOT, 'cli/bin.mjs'), ...args], { env: { DMS_GATEWAY: base, DMS_API_KEY: key, ...env } });
  const timer = setTimeout(() => void service.stop('SIGKILL'), timeoutMs);
  const code = await service.exited;
  await service.closed;
  clearTimeout(timer);
  return { code, output: service.output() };
}

/** Like dms() but with stdout and stderr apart (stdout is what scripts capture). */
async function dmsSplit(args: string[], env: Record<string, string | undefined> = {}) {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [join(ROOT, 'cli/bin.mjs'), ...args], {
    env: { ...process.env, DMS_GATEWAY: base, DMS_API_KEY: key, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

const file = (name: string, lines: unknown[]) => {
  const path = join(dir, name);
  writeFileSync(path, `${lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n')}\n`);
  return path;
};
const requestLines = (n: number, params: Record<string, unknown> = { max_tokens: 8, temperature: 0 }) =>
  Array.from({ length: n }, (_, i) => ({ custom_id: `q${i}`, prompt: `C1:a${i}b7=`, params }));

beforeAll(async () => {
  modelsDir = await writeTinyModels();
  store = createJobStore(sqlDb);
  await store.ensureTenant('acme');
  key = await store.createApiKey('acme');
  const catalog = await loadModelCatalog(modelsDir);
  // "ghost" is in the catalog but has no checkpoint: the runner reports its requests as failed.
  catalog.models.push({ name: 'ghost', contextLength: 512, methods: ['none'], dmsRatios: [] });
  const app = createApp({ store, models: catalog, auth: { runnerTokens: [RUNNER_TOKEN] } });
  server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const executor = await EngineExecutor.create(new ModelRegistry(modelsDir));
  runner = new RunnerLoop(new HttpJobSource({ baseUrl: base, token: RUNNER_TOKEN }), executor, {
    runnerId: 'cli-test',
    heartbeatMs: 200,
    pollMinMs: 20,
    pollMaxMs: 100,
    log: () => {},
  });
}, 120_000);

afterAll(async () => {
  await runner?.stop();
  killAll();
  await new Promise((resolve) => server?.close(resolve));
  sqlDb.close();
  rmSync(dir, { recursive: true, force: true });
  if (modelsDir) rmSync(modelsDir, { recursive: true, force: true });
});

describe('dms help and usage errors', () => {
  it('prints help for every command and exits 2 on bad usage', async () => {
    const main = await dms(['--help']);
    expect(main.code).toBe(0);
    expect(main.output).toMatch(/commands:[\s\S]*exit codes:[\s\S]*130/);
    const commands = ['submit', 'status', 'watch', 'list', 'results', 'cancel', 'run'];
    const helps = await Promise.all(commands.map((command) => dms([command, '--help'])));
    helps.forEach((help, i) => {
      expect(help.code).toBe(0);
      expect(help.output).toContain(`usage: dms ${commands[i]}`);
    });
    expect((await dms(['frobnicate'])).code).toBe(2);
    expect((await dms(['status'])).code).toBe(2);
    expect((await dms(['submit', join(dir, 'missing.jsonl')])).output).toMatch(/cannot read .*missing\.jsonl: ENOENT/);
    const bad = await dms(['submit', file('bad.jsonl', [requestLines(1)[0], 'not json', { custom_id: 'x' }])]);
    expect(bad.code).toBe(2);
    expect(bad.output).toMatch(/line 2: line is not valid JSON[\s\S]*line 3: prompt/);
    // One problem shared by 50 lines is printed once, with the count and the first line numbers.
    const many = await dms([
      'submit',
      file(
        'many.jsonl',
        Array.from({ length: 50 }, (_, i) => ({ custom_id: `m${i}` })),
      ),
    ]);
    expect(many.code).toBe(2);
    expect(many.output).toContain('50 problems\n  lines 1, 2, 3, 4, 5, ... (50 lines): prompt: ');
    expect(many.output.match(/prompt: /g)).toHaveLength(1);
    expect((await dms(['submit', file('ok.jsonl', requestLines(1)), '--n', 'lots'])).code).toBe(2);
    expect((await dms(['submit', file('ok.jsonl', requestLines(1)), '--bogus'])).code).toBe(2);
  });
});

describe('dms against a gateway', () => {
  it('submits, reports status, cancels, and maps refusals and outages to exit codes', async () => {
    const submitted = await dmsSplit(['submit', file('two.jsonl', requestLines(2)), '--model', 'tiny', '--metadata', 'run=cli']);
    expect(submitted.code).toBe(0);
    const id = submitted.stdout.trim();
    expect(id).toMatch(/^job_[0-9a-f]+$/);
    const status = await dmsSplit(['status', id]);
    expect(status).toMatchObject({ code: 0 });
    expect(status.stdout).toMatch(new RegExp(`${id}  queued  model tiny[\\s\\S]*2 total, 0 succeeded`));
    expect(JSON.parse((await dmsSplit(['status', id, '--json'])).stdout)).toMatchObject({ id, metadata: { run: 'cli' } });
    expect((await dmsSplit(['cancel', id])).stdout.trim()).toBe(`${id} canceled`);
    const listed = await dmsSplit(['list', '--status', 'canceled', '--limit', '1']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${id}  canceled\\s+2/2  tiny  \\d{4}-`));
    expect(listed.stdout.trim().split('\n')).toHaveLength(1);
    expect((await dmsSplit(['list', '--status', 'done'])).code).toBe(3);
    expect(await dmsSplit(['cancel', id])).toMatchObject({ code: 0, stdout: `${id} canceled\n` }); // idempotent
    expect((await dmsSplit(['status', 'job_nope'])).code).toBe(3);
    expect((await dmsSplit(['status', id], { DMS_API_KEY: 'dms_wrong' })).stderr).toMatch(/401.*check DMS_API_KEY/);
    const invalid = await dmsSplit(['submit', file('ratio.jsonl', requestLines(1)), '--model', 'tiny', '--compression', 'dms:3']);
    expect(invalid.code).toBe(3);
    expect(invalid.stderr).toMatch(/defaults\.compression\.ratio: no DMS checkpoint of "tiny" for ratio 3/);
    expect((await dmsSplit(['status', id], { DMS_GATEWAY: 'http://127.0.0.1:1' })).code).toBe(4);
    // The gateway's issue on 30 requests: one line with the count, not 30 lines.
    const long = await dmsSplit([
      'submit',
      file(
        'long.jsonl',
        Array.from({ length: 30 }, (_, i) => ({ custom_id: `l${i}`, prompt: 'C1:a1b7=', params: { max_tokens: 100_000 } })),
      ),
      '--model',
      'tiny',
    ]);
    expect(long.code).toBe(3);
    expect(long.stderr).toMatch(/-> 400: invalid request\n {2}requests 0, 1, 2, 3, 4, \.\.\. \(30 requests\): (params\.)?max_tokens: /);
    expect(long.stderr.trim().split('\n')).toHaveLength(2);
  });

  it('param flags are defaults that lines override, with a note; --override makes them win', async () => {
    const stored = (id: string) =>
      (sqlDb.sqlite.prepare('SELECT params_json FROM requests WHERE job_id = ? ORDER BY idx').all(id) as Array<{ params_json: string }>).map(
        (r) => JSON.parse(r.params_json) as { max_tokens: number; n: number },
      );
    const input = file('own.jsonl', requestLines(3, { max_tokens: 8 }));
    const flags = ['--model', 'tiny', '--max-tokens', '4', '--n', '2'];
    const asDefaults = await dmsSplit(['submit', input, ...flags]);
    expect(asDefaults.code).toBe(0);
    expect(asDefaults.stderr).toContain('dms: note: --max-tokens 4 is a default: 3 of 3 lines set max_tokens themselves and keep it (add --override');
    expect(asDefaults.stderr).not.toContain('--n 2'); // no line sets n: the flag applies everywhere, nothing to say
    expect(stored(asDefaults.stdout.trim()).map((p) => [p.max_tokens, p.n])).toEqual([
      [8, 2],
      [8, 2],
      [8, 2],
    ]);
    const overridden = await dmsSplit(['submit', input, ...flags, '--override']);
    expect(overridden).toMatchObject({ code: 0, stderr: '' });
    expect(stored(overridden.stdout.trim()).map((p) => p.max_tokens)).toEqual([4, 4, 4]);
    const alone = await dmsSplit(['submit', input, '--model', 'tiny', '--override']);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(/--override needs a param flag/);
    for (const id of [asDefaults.stdout.trim(), overridden.stdout.trim()]) await dmsSplit(['cancel', id]);
  });

  it('submit --wait follows a job to the end, results writes NDJSON, watch exits 1 when requests failed', async () => {
    runner.start();
    const waited = await dmsSplit([
      'submit',
      file('three.jsonl', requestLines(3, { max_tokens: 12, temperature: 0.8, seed: 3, n: 2 })),
      '--model',
      'tiny',
      '--wait',
      '--interval',
      '0.1',
    ]);
    expect(waited.code).toBe(0);
    const id = waited.stdout.trim();
    expect(waited.stderr).toMatch(/\[#+\] 3\/3 ok 3 failed 0 canceled 0 \| [\d,]+ tok\/s \| done \| completed/);

    const out = join(dir, 'results.jsonl');
    const saved = await dmsSplit(['results', id, '-o', out]);
    expect(saved.code).toBe(0);
    expect(saved.stderr).toContain(`wrote 3 results of ${id}`);
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.custom_id, l.status, l.threads.length])).toEqual([
      ['q0', 'succeeded', 2],
      ['q1', 'succeeded', 2],
      ['q2', 'succeeded', 2],
    ]);
    expect((await dmsSplit(['results', id])).stdout).toBe(readFileSync(out, 'utf8'));
    expect((await dmsSplit(['watch', id])).code).toBe(0);
    const late = await dmsSplit(['cancel', id]);
    expect(late.code).toBe(3);
    expect(late.stderr).toMatch(/409: job is already completed/);

    // OpenAI batch lines work as input too; the "ghost" model has no checkpoint, so its request fails.
    const ghost = file('ghost.jsonl', [{ custom_id: 'g', method: 'POST', url: '/v1/completions', body: { model: 'ghost', prompt: 'Q:1=', max_tokens: 4 } }]);
    const failed = await dmsSplit(['submit', ghost, '--wait', '--interval', '0.1']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/1\/1 ok 0 failed 1/);
    expect((await dmsSplit(['watch', failed.stdout.trim()])).code).toBe(1);
    await runner.stop();
  });

  it('watch stops on Ctrl-C with 130 and leaves the job running', async () => {
    const id = (await dmsSplit(['submit', file('wait.jsonl', requestLines(1)), '--model', 'tiny'])).stdout.trim();
    const watch = startService(process.execPath, [join(ROOT, 'cli/bin.mjs'), 'watch', id, '--interval', '0.1'], {
      env: { DMS_GATEWAY: base, DMS_API_KEY: key },
    });
    await watch.waitFor(/0\/1 ok 0/, 30_000);
    watch.child.kill('SIGINT');
    expect(await watch.exited).toBe(130);
    expect(watch.output()).toMatch(/stopped watching .*keeps running/);
    expect(JSON.parse((await dmsSplit(['status', id, '--json'])).stdout).status).toBe('queued');
  });
});

describe('dms run (local, no gateway)', () => {
  it('runs a batch on the engine and writes result lines with usage and cost', async () => {
    const out = join(dir, 'local-results.jsonl');
    const input = file('local.jsonl', [
      { custom_id: 'a', prompt: 'C1:a3b7=', params: { max_tokens: 10, temperature: 0, n: 2 } },
      { custom_id: 'b', prompt: 'C1:a3b7=', params: { max_tokens: 10, temperature: 0, compression: { method: 'dms', ratio: 4 } } },
    ]);
    const ran = await dmsSplit(['run', input, '-o', out, '--model', 'tiny'], {
      DMS_MODELS_DIR: modelsDir,
      DMS_GATEWAY: 'http://127.0.0.1:1',
      DMS_PRICE_PER_RUNNER_HOUR: '3600',
    });
    expect(ran.code).toBe(0);
    expect(ran.stderr).toMatch(/running 2 requests of model tiny locally[\s\S]*2\/2 ok 2 failed 0/);
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.custom_id).sort()).toEqual(['a', 'b']);
    for (const l of lines) {
      expect(l.status).toBe('succeeded');
      expect(l.usage.prompt_tokens).toBe(9);
      expect(l.usage.cost).toBeCloseTo(l.usage.runner_seconds, 9); // $3600 per hour = $1 per runner-second
    }
    const invalid = await dmsSplit(['run', input, '--model', 'tiny', '--compression', 'dms:3'], { DMS_MODELS_DIR: modelsDir });
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/no DMS checkpoint of "tiny" for ratio 3/);
    const empty = await dmsSplit(['run', input], { DMS_MODELS_DIR: join(dir, 'nothing') });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/no checkpoints in/);
  });
});

describe('pipes and usage', () => {
  /** Runs `dms ARGS | head -n 1` in bash; the output is dms's stderr plus the pipeline's exit status of dms. */
  const piped = (args: string, env: Record<string, string> = {}) =>
    runToEnd('bash', ['-c', `"${process.execPath}" cli/bin.mjs ${args} | head -n 1 > /dev/null; echo "exit=\${PIPESTATUS[0]}"`], {
      env: { DMS_GATEWAY: base, DMS_API_KEY: key, ...env },
    });

  it('exits quietly when the reader closes the pipe (results | head, run | head)', async () => {
    const params = resolveParams(undefined, undefined);
    const n = 3000;
    const submitted = await store.submit({
      tenantId: 'acme',
      model: 'ghost',
      defaults: null,
      metadata: null,
      idempotencyKey: null,
      bodyHash: null,
      requests: Array.from({ length: n }, (_, i) => ({ customId: `p${i}`, prompt: 'C1:a1b7=', params, expectedAnswer: null })),
    });
    const claim = await store.claim({ runnerId: 'pipe-test', models: ['ghost'] });
    expect(claim?.job.id).toBe(submitted.kind === 'created' ? submitted.job.id : null);
    const text = 'x'.repeat(400);
    for (let i = 0; i < n; i += 500) {
      const results = Array.from({ length: 500 }, (_, j) => ({
        custom_id: `p${i + j}`,
        status: 'succeeded' as const,
        answer: '1',
        threads: [{ text, answer: '1', finish_reason: 'stop' as const, completion_tokens: 1 }],
        usage: null,
        timings: null,
        error: null,
      }));
      await store.writeResults(claim!.job.id, claim!.lease.lease_token, results);
    }
    await store.complete(claim!.job.id, claim!.lease.lease_token);
    expect((await piped(`results ${claim!.job.id}`)).output).toBe('exit=0\n'); // 1.3 MB of lines, head reads one

    const lines = Array.from({ length: 40 }, (_, i) => ({ custom_id: `r${i}`, prompt: 'C1:a3b7=', params: { max_tokens: 2 + 2 * i, temperature: 0 } }));
    const ran = await piped(`run ${file('pipe.jsonl', lines)} --model tiny 2>/dev/null`, { DMS_MODELS_DIR: modelsDir });
    expect(ran.output).toBe('exit=0\n');
  });

  it('dms with no command exits 2 with usage; train and retrofit print usage for --help and on a bad flag', async () => {
    const bare = await dmsSplit([]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/^usage: dms <command>/);
    for (const script of ['train', 'retrofit']) {
      const help = await runToEnd('npm', ['run', '-s', script, '--', '--help']);
      expect(help.code).toBe(0);
      expect(help.output).toMatch(new RegExp(`^usage: npm run ${script} -- \\[flags\\]\\n[\\s\\S]*--token-budget`));
      const bad = await runToEnd('npm', ['run', '-s', script, '--', '--bogus']);
      expect(bad.code).toBe(2);
      expect(bad.output).toMatch(/^Unknown option '--bogus'\nusage: /);
      expect(bad.output).not.toMatch(/ERR_PARSE_ARGS|at parseArgs/);
    }
  });
});

describe('progress line', () => {
  it('shows counts, tokens per second and an ETA from the observed rates', () => {
    const counts = { total: 10, queued: 0, running: 6, succeeded: 3, failed: 1, canceled: 0 };
    const r = rates({ atMs: 0, finished: 0, completionTokens: 0 }, { atMs: 4000, finished: 4, completionTokens: 6000 }, 10);
    expect(r).toEqual({ tokensPerSecond: 1500, etaSeconds: 6 });
    expect(renderProgress({ request_counts: counts, status: 'running' }, r, 10)).toBe(
      '[####------] 4/10 ok 3 failed 1 canceled 0 | 1,500 tok/s | ETA 0:06 | running',
    );
    expect(renderProgress({ request_counts: counts, status: 'queued' }, { tokensPerSecond: null, etaSeconds: null }, 10)).toMatch(
      /-- tok\/s \| ETA -- \| queued$/,
    );
  });
});

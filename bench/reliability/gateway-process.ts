// The Node gateway (gateway/node.ts) as a child process for load and fault runs: a temp data dir,
// a model catalog folder, a free loopback port; start, wait for "listening", SIGKILL, restart.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const REPO_ROOT = join(import.meta.dirname, '../..');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Writes a catalog-only model folder (config.json; the gateway validates against it, runs nothing). */
export function writeCatalogModels(modelsDir: string, contextLength = 512): void {
  mkdirSync(join(modelsDir, 'reasoner-base'), { recursive: true });
  writeFileSync(join(modelsDir, 'reasoner-base/config.json'), JSON.stringify({ max_position_embeddings: contextLength }));
}

export interface GatewayProcessConfig {
  dataDir: string;
  modelsDir: string;
  port: number;
  /** Client key accepted by the gateway (DMS_API_KEY). */
  apiKey: string;
  /** Runner token (DMS_RUNNER_TOKEN); empty keeps the runner API closed. */
  runnerToken?: string;
  /** Extra environment (DMS_LEASE_SECONDS, DMS_RATE_LIMIT_RPS, ...). */
  env?: Record<string, string>;
  /** Extra node flags, e.g. ['--cpu-prof'] when profiling (DMS_BENCH_NODE_ARGS in the scripts). */
  nodeArgs?: string[];
}

/** One gateway process; `start()` may be called again after it died (a restart on the same data). */
export class GatewayProcess {
  child: ChildProcess | null = null;
  output = '';

  constructor(readonly config: GatewayProcessConfig) {}

  get url(): string {
    return `http://127.0.0.1:${this.config.port}`;
  }

  get alive(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawns node (with the tsx loader, so the pid is the server itself) and waits for it to listen. */
  start(timeoutMs = 60_000): Promise<void> {
    const { dataDir, modelsDir, port, apiKey, runnerToken, env, nodeArgs = [] } = this.config;
    const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'gateway/node.ts'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        PORT: String(port),
        DMS_DATA_DIR: dataDir,
        DMS_MODELS_DIR: modelsDir,
        DMS_API_KEY: apiKey,
        DMS_RUNNER_TOKEN: runnerToken ?? '',
        DMS_INPROCESS_RUNNER: '0',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const from = this.output.length; // output accumulates over restarts; only this start's counts
    const onData = (chunk: Buffer) => {
      this.output += chunk.toString();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`gateway did not start in ${timeoutMs} ms:\n${this.output}`)), timeoutMs);
      const poll = setInterval(() => {
        if (this.output.includes('listening on', from)) {
          clearInterval(poll);
          clearTimeout(timer);
          resolve();
        }
      }, 20);
      child.once('exit', (code, signal) => {
        clearInterval(poll);
        clearTimeout(timer);
        reject(new Error(`gateway exited (${code ?? signal}) before listening:\n${this.output}`));
      });
    });
  }

  /** Sends `signal` and resolves once the process is gone. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || !this.alive) return Promise.resolve();
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }

  /** Graceful stop (SIGTERM), SIGKILL after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.alive) return;
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    await this.kill('SIGTERM');
    clearTimeout(timer);
  }
}

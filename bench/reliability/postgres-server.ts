// A throwaway PostgreSQL for tests and benchmarks: initdb into a temp folder, postgres on a free
// loopback port (as the `postgres` user when we are root, as the server refuses to run as root).
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './gateway-process.js';

export interface PostgresServer {
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  url: string;
  port: number;
  /** A fresh database on this server; returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server abruptly (as a crash would) or cleanly; `start` brings it back on the same port and data. */
  stop(mode?: 'immediate' | 'fast'): void;
  start(): Promise<void>;
  /** Stops the server and deletes its data. */
  destroy(): void;
}

export type ServerTuning = {
  /** fsync off: for tests, where the data is thrown away (default true); false keeps the server's durable defaults. */
  throwaway?: boolean;
  maxConnections?: number;
};

/** The folder with initdb and pg_ctl: PG_BIN, else the newest /usr/lib/postgresql/N/bin; null when absent. */
export function postgresBinDir(): string | null {
  if (process.env.PG_BIN) return existsSync(join(process.env.PG_BIN, 'initdb')) ? process.env.PG_BIN : null;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin/initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0], 'bin') : null;
}

const asRoot = () => process.getuid?.() === 0;

/** Runs a server binary, as the postgres user when we are root. */
function run(bin: string, args: string[]): void {
  const [cmd, argv] = asRoot() ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  execFileSync(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
}

function postgresIds(): { uid: number; gid: number } {
  const line = execFileSync('getent', ['passwd', 'postgres'], { encoding: 'utf8' }).trim();
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** Waits until the server accepts connections (pg_isready), or throws with its log. */
async function waitReady(bin: string, port: number, logFile: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      execFileSync(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-q']);
      return;
    } catch {
      if (Date.now() > deadline) {
        const log = existsSync(logFile) ? execFileSync('tail', ['-20', logFile], { encoding: 'utf8' }) : '';
        throw new Error(`postgres did not start on port ${port}:\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Creates, starts and returns a throwaway server; throws when the binaries are missing or it cannot start. */
export async function startPostgres(tuning: ServerTuning = {}): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL binaries not found (install Debian postgresql, or set PG_BIN)');
  const dir = mkdtempSync(join(tmpdir(), 'dms-pg-'));
  if (asRoot()) {
    const { uid, gid } = postgresIds();
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  run(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  const port = await freePort();
  const throwaway = tuning.throwaway ?? true;
  const settings = [
    `-p ${port}`,
    "-c listen_addresses='127.0.0.1'",
    `-k ${dir}`,
    `-c max_connections=${tuning.maxConnections ?? 100}`,
    // Throwaway: fsync off, so a commit reaches the OS but not the disk. It survives a crash of any
    // process, the server's included (as SQLite's WAL NORMAL does), but not of the machine. Otherwise
    // the server's defaults: every commit is flushed. synchronous_commit stays on in both: off would
    // lose the last commits when the server process dies.
    ...(throwaway ? ['-c fsync=off', '-c full_page_writes=off'] : []),
  ].join(' ');
  const start = async () => {
    // pg_ctl start without -w returns at once; the server keeps running detached from us.
    run(join(bin, 'pg_ctl'), ['start', '-D', data, '-l', logFile, '-o', settings]);
    await waitReady(bin, port, logFile);
  };
  await start();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let stopped = false;
  const server: PostgresServer = {
    url,
    port,
    async createDatabase(name) {
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    stop(mode = 'immediate') {
      run(join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', mode, '-w']);
    },
    start,
    destroy() {
      if (stopped) return;
      stopped = true;
      try {
        server.stop('immediate');
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/** Stops the server and deletes its data when this process exits, even after a failed test. */
export function stopOnExit(server: PostgresServer): void {
  process.once('exit', () => server.destroy());
}

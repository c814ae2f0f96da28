// The store drivers the case suite runs on, each as a FreshDb: better-sqlite3 (:memory:), D1 (through
// wrangler's getPlatformProxy, in memory) and PostgreSQL (a throwaway server); node:sqlite runs under Deno.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MIGRATIONS_DIR, openBetterSqlite } from '../../db/better-sqlite-db.js';
import { type D1Binding, openD1 } from '../../db/d1-db.js';
import { openPostgres, type PostgresDb, type PostgresOptions } from '../../db/pg/node-postgres-db.js';
import type { SqlDb } from '../../db/sql-db.js';
import { postgresBinDir, type PostgresServer, startPostgres, stopOnExit } from '../../bench/reliability/postgres-server.js';
import type { FreshDb } from './store-cases.js';

/** Tables in an order that deletes children before parents. */
const TABLES_CHILD_FIRST = ['file_chunks', 'batches', 'files', 'requests', 'jobs', 'runners', 'api_keys', 'tenants'];

/** `flaky` names errors of the test harness (not of the store) after which the driver must be reopened. */
export type Driver = { fresh: FreshDb; close(): Promise<void>; flaky?: (error: unknown) => boolean };

export function betterSqliteDriver(): Driver {
  const open: Array<{ close(): void }> = [];
  return {
    fresh: async () => {
      const db = openBetterSqlite(':memory:');
      open.push(db);
      return db;
    },
    close: async () => {
      for (const db of open) db.close();
    },
  };
}

/** The SQL statements of db/migrations in order (drizzle-kit separates them with statement-breakpoint). */
function sqliteMigrationStatements(): string[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .flatMap((f) => readFileSync(join(MIGRATIONS_DIR, f), 'utf8').split('--> statement-breakpoint'))
    .map((s) => s.trim())
    .filter(Boolean);
}

/** D1 as Miniflare runs it for `wrangler dev`: the DB binding of wrangler.toml, kept in memory. */
export async function d1Driver(): Promise<Driver> {
  const { getPlatformProxy } = await import('wrangler');
  const proxy = await getPlatformProxy<{ DB: D1Binding & { prepare(sql: string): { run(): Promise<unknown> } } }>({
    configPath: join(import.meta.dirname, '../../wrangler.toml'),
    persist: false,
    remoteBindings: false,
  });
  const binding = proxy.env.DB;
  for (const statement of sqliteMigrationStatements()) await binding.prepare(statement).run();
  const handle = openD1(binding);
  return {
    fresh: async () => {
      for (const table of TABLES_CHILD_FIRST) await binding.prepare(`DELETE FROM ${table}`).run();
      return handle;
    },
    close: () => proxy.dispose(),
    // Miniflare's proxy makes synchronous calls (prepare, bind) through a worker thread and checks the
    // reply's id; on a loaded machine the reply can arrive after the wake-up, and from then on every
    // call reads the previous call's reply. Seen only in full-suite runs; the proxy must be replaced.
    flaky: (error) => {
      for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
        if ((e as { code?: string }).code === 'ERR_ASSERTION' && /fetch-sync|SynchronousFetcher/.test(String((e as Error).stack))) return true;
      }
      return false;
    },
  };
}

/**
 * A PostgreSQL server for tests: DMS_TEST_DATABASE_URL when set, else a throwaway one when the
 * binaries exist; null (the caller skips) only outside CI. In CI a missing server is an error.
 */
export async function testPostgres(): Promise<{ url: string; server: PostgresServer | null } | null> {
  if (process.env.DMS_TEST_DATABASE_URL) return { url: process.env.DMS_TEST_DATABASE_URL, server: null };
  if (!postgresBinDir()) {
    if (process.env.CI) throw new Error('CI is set but no PostgreSQL binaries were found: the PostgreSQL store tests must not be skipped');
    return null;
  }
  const server = await startPostgres();
  stopOnExit(server);
  return { url: server.url, server };
}

export const postgresAvailable = (): boolean => Boolean(process.env.DMS_TEST_DATABASE_URL || postgresBinDir() || process.env.CI);

export async function postgresDriver(options: PostgresOptions = {}): Promise<Driver & { handle: PostgresDb }> {
  const pg = await testPostgres();
  if (!pg) throw new Error('no PostgreSQL available');
  const url = pg.server ? await pg.server.createDatabase(`cases_${process.pid}`) : pg.url;
  const handle = await openPostgres(url, { poolSize: 8, ...options });
  const empty = `TRUNCATE ${TABLES_CHILD_FIRST.join(', ')} RESTART IDENTITY CASCADE`;
  return {
    handle,
    fresh: async (): Promise<SqlDb> => {
      await handle.pool.query(empty);
      return handle;
    },
    close: async () => {
      await handle.close();
      pg.server?.destroy();
    },
  };
}

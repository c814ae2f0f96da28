// The Node driver: opens a better-sqlite3 file (WAL) or :memory:, applies db/migrations, and wraps
// it as an SqlDb whose batch runs every statement inside one synchronous SQLite transaction.
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { fileURLToPath } from 'node:url';
import * as schema from './schema.js';
import { SQLITE_TABLES, type SqlDb, type SqliteDatabase } from './sql-db.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url));

export type BetterSqliteDb = SqlDb & { sqlite: Database.Database; close(): void };

/**
 * Durability of a commit. In WAL mode NORMAL survives any crash of the process (SIGKILL included:
 * a commit is in the WAL file once `COMMIT` returns) but may lose the last commits on power loss or
 * an OS crash; FULL also fsyncs the WAL on every commit and survives those, at a cost per write.
 */
export type SynchronousMode = 'NORMAL' | 'FULL';

export interface BetterSqliteOptions {
  /** Apply db/migrations on open (default true). */
  migrate?: boolean;
  /** PRAGMA synchronous (default NORMAL, see SynchronousMode). */
  synchronous?: SynchronousMode;
  /**
   * How long a statement waits for another connection's lock before SQLITE_BUSY (default 2000 ms).
   * better-sqlite3 waits synchronously, so this also bounds how long one locked write stalls the process.
   */
  busyTimeoutMs?: number;
  /** Prepared statements kept for reuse, by SQL text (default 256; 0 prepares every time). */
  statementCacheSize?: number;
}

export const DEFAULT_BETTER_SQLITE_OPTIONS: Required<BetterSqliteOptions> = {
  migrate: true,
  synchronous: 'NORMAL',
  busyTimeoutMs: 2000,
  statementCacheSize: 256,
};

/** The prepared form every Drizzle builder has internally; executing it synchronously is what
 *  lets a batch run inside better-sqlite3's (synchronous) transaction. */
type SyncPrepared = { _prepare(): { execute(): { sync(): unknown } } };

/** Opens (creating if needed) a SQLite database, migrates it, and returns the store handle. */
export function openBetterSqlite(path: string, options: BetterSqliteOptions = {}): BetterSqliteDb {
  const opts = { ...DEFAULT_BETTER_SQLITE_OPTIONS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  if (opts.synchronous !== 'NORMAL' && opts.synchronous !== 'FULL') throw new Error(`synchronous must be NORMAL or FULL, got "${opts.synchronous}"`);
  const sqlite = new Database(path);
  sqlite.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs))}`);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(`synchronous = ${opts.synchronous}`);
  sqlite.pragma('foreign_keys = ON');
  if (opts.statementCacheSize > 0) cacheStatements(sqlite, opts.statementCacheSize);
  const db = drizzle(sqlite, { schema });
  if (opts.migrate) migrate(db, { migrationsFolder: MIGRATIONS_DIR });
  const runAll = sqlite.transaction((statements: unknown[]) => statements.map((s) => (s as SyncPrepared)._prepare().execute().sync()));
  return {
    db: db as unknown as SqliteDatabase,
    tables: SQLITE_TABLES,
    sqlite,
    maxBoundParams: 999,
    // BEGIN IMMEDIATE takes the write lock up front, so a batch never fails half-way on SQLITE_BUSY.
    batch: async (statements) => runAll.immediate(statements),
    close: () => sqlite.close(),
  };
}

/**
 * Drizzle prepares its SQL on every execution; compiling the same text again costs more than running
 * it. This makes `prepare` return a cached statement (LRU by SQL text). Drizzle switches statements
 * to raw (array) rows for some reads and never back, so every reuse resets that mode first.
 */
function cacheStatements(sqlite: Database.Database, size: number): void {
  const prepare = sqlite.prepare.bind(sqlite);
  const cache = new Map<string, Database.Statement>();
  sqlite.prepare = ((source: string) => {
    let stmt = cache.get(source);
    if (stmt) {
      cache.delete(source);
      if (stmt.reader) stmt.raw(false);
    } else {
      stmt = prepare(source);
      if (cache.size >= size) cache.delete(cache.keys().next().value as string);
    }
    cache.set(source, stmt);
    return stmt;
  }) as typeof sqlite.prepare;
}

/** The settings a connection actually runs with, read back from SQLite (for logs and tests). */
export function describeSqlite(sqlite: Database.Database): { journalMode: string; synchronous: SynchronousMode | string; busyTimeoutMs: number } {
  const names: Record<number, string> = { 0: 'OFF', 1: 'NORMAL', 2: 'FULL', 3: 'EXTRA' };
  return {
    journalMode: String(sqlite.pragma('journal_mode', { simple: true })),
    synchronous: names[Number(sqlite.pragma('synchronous', { simple: true }))] ?? 'unknown',
    busyTimeoutMs: Number(sqlite.pragma('busy_timeout', { simple: true })),
  };
}

export type IntegrityReport = { ok: boolean; problems: string[] };

/**
 * PRAGMA integrity_check (every page, index and constraint of the file) plus foreign_key_check.
 * `ok` is true only when SQLite answers exactly "ok" and no row violates a foreign key.
 */
export function integrityCheck(sqlite: Database.Database): IntegrityReport {
  try {
    const rows = sqlite.pragma('integrity_check') as Array<{ integrity_check: string }>;
    const problems = rows.map((r) => r.integrity_check).filter((m) => m !== 'ok');
    const fks = sqlite.pragma('foreign_key_check') as Array<{ table: string; rowid: number; parent: string }>;
    for (const fk of fks) problems.push(`foreign key: ${fk.table} row ${fk.rowid} has no parent in ${fk.parent}`);
    return { ok: problems.length === 0 && rows.length > 0, problems };
  } catch (error) {
    // A file damaged badly enough makes the check itself fail (SQLITE_CORRUPT, SQLITE_NOTADB).
    return { ok: false, problems: [`${(error as { code?: string }).code ?? 'error'}: ${(error as Error).message}`] };
  }
}

// The `node:sqlite` driver for runtimes that cannot load better-sqlite3's V8 addon (Deno; also Node
// 22+): DatabaseSync behind Drizzle's sqlite-proxy, with batches run in one synchronous transaction.
import { drizzle } from 'drizzle-orm/sqlite-proxy';
import { migrate } from 'drizzle-orm/sqlite-proxy/migrator';
import * as schema from './schema.js';
import { SQLITE_TABLES, type SqlDb, type SqliteDatabase } from './sql-db.js';

/** The slice of node:sqlite used here (typed locally: @types/node 20 does not declare the module). */
type Statement = {
  run(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  get(...params: unknown[]): unknown;
  setReturnArrays(on: boolean): void;
};
type DatabaseSync = { exec(sql: string): void; prepare(sql: string): Statement; close(): void };
type Method = 'run' | 'all' | 'values' | 'get';

export type NodeSqliteDb = SqlDb & { close(): void };

/** Runs one statement the way sqlite-proxy expects: rows as arrays in column order. */
function execute(sqlite: DatabaseSync, sql: string, params: unknown[], method: Method): { rows: unknown[] } {
  const stmt = sqlite.prepare(sql);
  if (method === 'run') {
    stmt.run(...params);
    return { rows: [] };
  }
  stmt.setReturnArrays(true);
  if (method === 'get') return { rows: (stmt.get(...params) as unknown[] | undefined) ?? (undefined as unknown as unknown[]) };
  return { rows: stmt.all(...params) };
}

/** All statements or none: node:sqlite is synchronous, so nothing interleaves between BEGIN and COMMIT. */
function inTransaction<T>(sqlite: DatabaseSync, fn: () => T): T {
  sqlite.exec('BEGIN IMMEDIATE');
  try {
    const out = fn();
    sqlite.exec('COMMIT');
    return out;
  } catch (error) {
    sqlite.exec('ROLLBACK');
    throw error;
  }
}

/** Opens (creating if needed) a SQLite file or :memory: with node:sqlite and applies `migrationsFolder`. */
export async function openNodeSqlite(path: string, migrationsFolder: string): Promise<NodeSqliteDb> {
  const { DatabaseSync } = (await import('node:sqlite' as string)) as { DatabaseSync: new (path: string) => DatabaseSync };
  const sqlite = new DatabaseSync(path);
  sqlite.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;');
  const db = drizzle(
    async (sql, params, method) => execute(sqlite, sql, params, method),
    async (queries) => inTransaction(sqlite, () => queries.map((q) => execute(sqlite, q.sql, q.params, q.method))),
    { schema },
  );
  await migrate(
    db,
    async (queries) =>
      inTransaction(sqlite, () => {
        for (const q of queries) sqlite.exec(q);
      }),
    { migrationsFolder },
  );
  return {
    db: db as unknown as SqliteDatabase,
    tables: SQLITE_TABLES,
    maxBoundParams: 999,
    batch: async (statements) => (statements.length === 0 ? [] : [...(await db.batch(statements as unknown as Parameters<typeof db.batch>[0]))]),
    close: () => sqlite.close(),
  };
}

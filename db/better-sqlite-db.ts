// The Node driver: opens a better-sqlite3 file (WAL) or :memory:, applies db/migrations, and wraps
// it as an SqlDb whose batch runs every statement inside one synchronous SQLite transaction.
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { fileURLToPath } from 'node:url';
import * as schema from './schema.js';
import type { SqlDb, SqliteDatabase } from './sql-db.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url));

export type BetterSqliteDb = SqlDb & { sqlite: Database.Database; close(): void };

/** The prepared form every Drizzle builder has internally; executing it synchronously is what
 *  lets a batch run inside better-sqlite3's (synchronous) transaction. */
type SyncPrepared = { _prepare(): { execute(): { sync(): unknown } } };

/** Opens (creating if needed) a SQLite database, migrates it, and returns the store handle. */
export function openBetterSqlite(path: string, options: { migrate?: boolean } = {}): BetterSqliteDb {
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  const db = drizzle(sqlite, { schema });
  if (options.migrate !== false) migrate(db, { migrationsFolder: MIGRATIONS_DIR });
  const runAll = sqlite.transaction((statements: unknown[]) =>
    statements.map((s) => (s as SyncPrepared)._prepare().execute().sync()),
  );
  return {
    db: db as unknown as SqliteDatabase,
    sqlite,
    maxBoundParams: 999,
    // BEGIN IMMEDIATE takes the write lock up front, so a batch never fails half-way on SQLITE_BUSY.
    batch: async (statements) => runAll.immediate(statements),
    close: () => sqlite.close(),
  };
}

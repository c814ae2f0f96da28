// The Cloudflare D1 driver: wraps a D1 binding as an SqlDb (db.batch is D1's atomic batch).
// Migrations on D1 are applied by `wrangler d1 migrations apply` from db/migrations.
import type { BatchItem } from 'drizzle-orm/batch';
import { drizzle } from 'drizzle-orm/d1';
import * as schema from './schema.js';
import { SQLITE_TABLES, type SqlDb, type SqliteDatabase } from './sql-db.js';

/** The D1 binding's type, taken from Drizzle so that this file needs no Workers type package. */
export type D1Binding = Parameters<typeof drizzle>[0];

export function openD1(binding: D1Binding): SqlDb {
  const db = drizzle(binding, { schema });
  return {
    db: db as unknown as SqliteDatabase,
    tables: SQLITE_TABLES,
    maxBoundParams: 100,
    batch: async (statements) => (statements.length === 0 ? [] : db.batch(statements as [BatchItem<'sqlite'>, ...BatchItem<'sqlite'>[]])),
  };
}

// The database handle the store is written against: Drizzle's SQLite core API plus an atomic
// `batch` (D1's db.batch, a synchronous transaction on better-sqlite3); no interactive transactions.
import type { BatchItem } from 'drizzle-orm/batch';
import type { BaseSQLiteDatabase } from 'drizzle-orm/sqlite-core';
import type * as schema from './schema.js';

/** A Drizzle SQLite database of either driver mode; query builders are awaited in both. */
export type SqliteDatabase = BaseSQLiteDatabase<'sync' | 'async', unknown, typeof schema>;

export interface SqlDb {
  db: SqliteDatabase;
  /** Runs the statements in order, all or nothing; returns each statement's result (rows for RETURNING). */
  batch(statements: BatchItem<'sqlite'>[]): Promise<unknown[]>;
  /** Most bound parameters one statement may carry (D1: 100), for chunking multi-row inserts. */
  maxBoundParams: number;
}

/** Splits rows so that each multi-row INSERT stays under the driver's bound-parameter limit. */
export function chunkRows<T>(rows: T[], paramsPerRow: number, maxBoundParams: number): T[][] {
  const perChunk = Math.max(1, Math.floor(maxBoundParams / paramsPerRow));
  const chunks: T[][] = [];
  for (let i = 0; i < rows.length; i += perChunk) chunks.push(rows.slice(i, i + perChunk));
  return chunks;
}

/** True when an error (or its cause chain) is SQLite's unique-constraint violation. */
export function isUniqueViolation(error: unknown): boolean {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    if (String((e as Error).message ?? e).includes('UNIQUE constraint failed')) return true;
  }
  return false;
}

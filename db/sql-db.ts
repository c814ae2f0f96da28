// The database handle the store is written against: Drizzle's query builders over the driver's
// tables, plus an atomic `batch` (D1's db.batch, one transaction elsewhere); no interactive transactions.
import type { SQL } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import type { BaseSQLiteDatabase } from 'drizzle-orm/sqlite-core';
import type { JobRow } from './schema.js';
import * as schema from './schema.js';

/** A job row to insert and its request rows (the store fills every column it sets). */
export type NewJobRow = Pick<
  typeof schema.jobs.$inferInsert,
  | 'id'
  | 'tenantId'
  | 'model'
  | 'status'
  | 'defaultsJson'
  | 'metadataJson'
  | 'idempotencyKey'
  | 'bodyHash'
  | 'numRequests'
  | 'methodBits'
  | 'maxAttempts'
  | 'notBefore'
  | 'createdAt'
  | 'updatedAt'
>;
export type NewRequestRow = Pick<typeof schema.requests.$inferInsert, 'jobId' | 'idx' | 'customId' | 'prompt' | 'paramsJson' | 'expectedAnswer'> & {
  status: 'pending';
};

/**
 * A Drizzle database whose builders the store awaits. It is typed as SQLite's; the PostgreSQL handle
 * passes its pg database and tables under these types: the builder calls the store makes (select,
 * insert ... on conflict, update ... returning) have the same shape in both dialects, and each
 * database renders its own SQL. The store keeps its raw SQL to what both dialects parse.
 */
export type SqliteDatabase = BaseSQLiteDatabase<'sync' | 'async', unknown, typeof schema>;

/** The tables the store reads and writes, taken from the handle so that each dialect brings its own. */
export type StoreTables = Pick<typeof schema, 'tenants' | 'apiKeys' | 'jobs' | 'requests' | 'runners' | 'files' | 'fileChunks' | 'batches'>;

/** The SQLite tables (better-sqlite3, node:sqlite and D1 share them). */
export const SQLITE_TABLES: StoreTables = schema;

export interface SqlDb {
  db: SqliteDatabase;
  tables: StoreTables;
  /** Runs the statements in order, all or nothing; returns each statement's result (rows for RETURNING). */
  batch(statements: BatchItem<'sqlite'>[]): Promise<unknown[]>;
  /** Most bound parameters one statement may carry (D1: 100), for chunking multi-row inserts. */
  maxBoundParams: number;
  /**
   * Appended to the claim's inner SELECT: empty on SQLite (a write takes the whole database),
   * `FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent claimers pass over a row being claimed.
   */
  claimLock?: SQL;
  /**
   * Inserts a job and its request rows atomically in one statement and returns the stored job row
   * (PostgreSQL: one round trip instead of BEGIN, two INSERTs and COMMIT). Absent: the store sends the
   * inserts as one batch. A duplicate idempotency key throws a unique violation either way.
   */
  insertJob?(job: NewJobRow, requests: NewRequestRow[]): Promise<JobRow>;
}

/** Splits rows so that each multi-row INSERT stays under the driver's bound-parameter limit. */
export function chunkRows<T>(rows: T[], paramsPerRow: number, maxBoundParams: number): T[][] {
  const perChunk = Math.max(1, Math.floor(maxBoundParams / paramsPerRow));
  const chunks: T[][] = [];
  for (let i = 0; i < rows.length; i += perChunk) chunks.push(rows.slice(i, i + perChunk));
  return chunks;
}

/** True when an error (or its cause chain) is a unique-constraint violation (SQLite's message, PostgreSQL's 23505). */
export function isUniqueViolation(error: unknown): boolean {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === '23505') return true;
    if (String((e as Error).message ?? e).includes('UNIQUE constraint failed')) return true;
  }
  return false;
}

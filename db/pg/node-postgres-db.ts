// The PostgreSQL driver: a node-postgres Pool behind Drizzle, db/migrations-pg applied at open under
// an advisory lock (several gateways may start at once), and batches run as one transaction.
import { AsyncLocalStorage } from 'node:async_hooks';
import { fileURLToPath } from 'node:url';
import { getTableColumns, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import type { JobRow } from '../schema.js';
import type { NewJobRow, NewRequestRow, SqlDb, SqliteDatabase, StoreTables } from '../sql-db.js';
import * as pgSchema from './schema.js';

export const PG_MIGRATIONS_DIR = fileURLToPath(new URL('../migrations-pg', import.meta.url));

/** Any key works as long as every gateway uses the same one: it only serialises migrations. */
const MIGRATION_LOCK_KEY = 0x646d73; // "dms"

export interface PostgresOptions {
  /** Connections this process keeps at most (DMS_PG_POOL_SIZE, default 10); requests beyond it wait for one. */
  poolSize?: number;
  /** How long a query waits for a pool connection (or a new connection to open) before failing (default 5000 ms). */
  connectionTimeoutMs?: number;
  /** Idle connections are closed after this long (default 30000 ms). */
  idleTimeoutMs?: number;
  /** Server-side limit per statement (default 30000 ms), so a stuck statement cannot hold a connection forever. */
  statementTimeoutMs?: number;
  /**
   * synchronous_commit of this pool's sessions (DMS_PG_SYNCHRONOUS_COMMIT); unset keeps the server's
   * (default on: a commit returns once its WAL is flushed). `off` returns before the flush: a crash of
   * the server or the machine may lose the last commits (never corrupts), as SQLite's NORMAL may on power loss.
   */
  synchronousCommit?: 'on' | 'off';
  /** Apply db/migrations-pg on open (default true). */
  migrate?: boolean;
  /**
   * Give the hot statements names, so each connection parses and plans them once (default true;
   * DMS_PG_NAMED_STATEMENTS=0 turns it off). Off for a pooler in transaction mode that does not track
   * prepared statements (PgBouncer before 1.21, or without max_prepared_statements): there the next
   * transaction may run on a server connection that never saw the name.
   */
  namedStatements?: boolean;
  /** Called with errors of pooled connections outside a query (a restarted server, pg_terminate_backend); the pool replaces them. */
  onIdleError?: (error: Error) => void;
}

export const DEFAULT_POSTGRES_OPTIONS = {
  poolSize: 10,
  connectionTimeoutMs: 5_000,
  idleTimeoutMs: 30_000,
  statementTimeoutMs: 30_000,
  migrate: true,
  namedStatements: true,
} as const;

export type PostgresDb = SqlDb & { pool: pg.Pool; poolSize: number; close(): Promise<void> };

/** The job columns a submission sets, in the order of insertJob's first parameters. */
const JOB_INSERT_KEYS = [
  'id',
  'tenantId',
  'model',
  'status',
  'defaultsJson',
  'metadataJson',
  'idempotencyKey',
  'bodyHash',
  'numRequests',
  'methodBits',
  'maxAttempts',
  'notBefore',
  'createdAt',
  'updatedAt',
] as const satisfies readonly (keyof NewJobRow)[];

const JOB_COLUMNS = Object.entries(getTableColumns(pgSchema.jobs));
const jobColumn = (key: string) => {
  const column = (pgSchema.jobs as unknown as Record<string, { name: string }>)[key];
  if (!column) throw new Error(`no jobs column for ${key}`);
  return `"${column.name}"`;
};

/**
 * A submission in one statement and one round trip: the job row, then its request rows from
 * column arrays (one parameter per column, whatever the number of requests), returning the stored
 * job. One statement is atomic; the request rows' foreign key is checked at its end, after the job
 * row went in. Named, so each connection parses and plans it once.
 */
const INSERT_JOB = {
  name: 'dms_insert_job',
  text: [
    `WITH j AS (INSERT INTO jobs (${JOB_INSERT_KEYS.map(jobColumn).join(', ')})`,
    ` VALUES (${JOB_INSERT_KEYS.map((_, i) => `$${i + 1}`).join(', ')})`,
    ` RETURNING ${JOB_COLUMNS.map(([, c]) => `"${c.name}"`).join(', ')}),`,
    ' r AS (INSERT INTO requests (job_id, idx, custom_id, prompt, params_json, status, expected_answer)',
    " SELECT j.id, u.idx, u.custom_id, u.prompt, u.params_json, 'pending', u.expected_answer FROM j,",
    ` unnest($${JOB_INSERT_KEYS.length + 1}::integer[], $${JOB_INSERT_KEYS.length + 2}::text[], $${JOB_INSERT_KEYS.length + 3}::text[],`,
    ` $${JOB_INSERT_KEYS.length + 4}::text[], $${JOB_INSERT_KEYS.length + 5}::text[]) AS u(idx, custom_id, prompt, params_json, expected_answer))`,
    ' SELECT * FROM j',
  ].join(''),
};

/** A jobs row as the server sent it, mapped to the JS values Drizzle's select gives (bigint ms as numbers). */
function mapJobRow(raw: Record<string, unknown>): JobRow {
  const out: Record<string, unknown> = {};
  for (const [key, column] of JOB_COLUMNS) {
    const value = raw[column.name];
    out[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return out as JobRow;
}

/** Distinct statement texts given a name; past this, statements go unnamed (parsed each time). */
const MAX_NAMED_STATEMENTS = 200;
/** Longer texts (multi-row inserts, long IN lists) vary with their row count: not worth keeping prepared. */
const MAX_NAMED_TEXT = 8_000;

/**
 * Names Drizzle's parameterised statements by their text, so that each pooled connection parses and
 * plans a statement once and then only binds it (node-postgres keeps a connection's parsed names; a
 * new connection parses again). The store's hot statements are a few fixed texts; at most
 * MAX_NAMED_STATEMENTS get a name, the rest stay unnamed.
 */
function namedStatements(): (config: unknown) => unknown {
  const names = new Map<string, string>();
  return (config) => {
    if (!config || typeof config !== 'object') return config;
    const c = config as { name?: string; text?: unknown };
    if (c.name || typeof c.text !== 'string' || c.text.length > MAX_NAMED_TEXT || !c.text.includes('$1')) return config;
    let name = names.get(c.text);
    if (!name) {
      if (names.size >= MAX_NAMED_STATEMENTS) return config;
      name = `dms_q${names.size}`;
      names.set(c.text, name);
    }
    return { ...c, name };
  };
}

/** Serialisation failures and deadlocks abort a transaction that would succeed when run again. */
const RETRYABLE = new Set(['40001', '40P01']);
const MAX_BATCH_TRIES = 5;

const errorCode = (error: unknown): string | undefined => {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
};

/**
 * Opens a pool on `url` (postgres://user:password@host:port/database), migrates, and returns the store
 * handle. Statements outside a batch run on any pooled connection; a batch holds one for its transaction.
 */
export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<PostgresDb> {
  const opts = { ...DEFAULT_POSTGRES_OPTIONS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  const poolSize = Math.floor(opts.poolSize);
  if (!(poolSize >= 1)) throw new Error(`pool size must be at least 1, got ${opts.poolSize}`);
  const sync = options.synchronousCommit;
  if (sync !== undefined && sync !== 'on' && sync !== 'off') throw new Error(`synchronous_commit must be on or off, got "${sync}"`);
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: opts.connectionTimeoutMs,
    idleTimeoutMillis: opts.idleTimeoutMs,
    statement_timeout: opts.statementTimeoutMs,
    keepAlive: true,
    ...(sync ? { options: `-c synchronous_commit=${sync}` } : {}),
  });
  // Without a listener a connection's error outside a query (server restart, terminated backend)
  // would crash the process. The pool only listens on idle connections, so every connection gets one.
  const onError = (error: Error) => options.onIdleError?.(error);
  pool.on('error', onError);
  pool.on('connect', (client) => client.on('error', onError));

  if (opts.migrate) await migrateLocked(pool, url);

  // Drizzle's builders run on one client; inside a batch that client must be the transaction's
  // connection. The batch's connection is carried in async context, everything else goes to the pool.
  const batchClient = new AsyncLocalStorage<pg.PoolClient>();
  const statementName = opts.namedStatements ? namedStatements() : (config: unknown) => config;
  const insertJobStatement = opts.namedStatements ? INSERT_JOB : { text: INSERT_JOB.text };
  const router = {
    query: (config: unknown, ...rest: unknown[]) => {
      const named = statementName(config);
      return (batchClient.getStore() ?? pool).query(...([named, ...rest] as Parameters<pg.Pool['query']>));
    },
  };
  const db = drizzle({ client: router as unknown as pg.Pool, schema: pgSchema });

  async function runBatch(statements: unknown[]): Promise<unknown[]> {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      // REPEATABLE READ: every statement sees the snapshot of the first, and one that updates a row
      // another transaction changed since fails with 40001 and is retried whole, so a batch acts as
      // if it ran alone, as it does on SQLite.
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      const results = await batchClient.run(client, async () => {
        const out: unknown[] = [];
        for (const statement of statements) out.push(await statement);
        return out;
      });
      await client.query('COMMIT');
      return results;
    } catch (error) {
      await client.query('ROLLBACK').catch((e: Error) => {
        broken = e;
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }

  return {
    db: db as unknown as SqliteDatabase,
    tables: pgSchema as unknown as StoreTables,
    maxBoundParams: 65_535,
    claimLock: sql`for update skip locked`,
    pool,
    poolSize,
    async batch(statements) {
      if (statements.length === 0) return [];
      // One statement is atomic on its own: no transaction, three round trips fewer (a runner writes
      // its results one request at a time). Under READ COMMITTED a conditional UPDATE re-checks its
      // target row if another transaction changed it, so the fence holds as in a transaction.
      if (statements.length === 1) return [await statements[0]];
      for (let attempt = 1; ; attempt++) {
        try {
          return await runBatch(statements);
        } catch (error) {
          if (attempt >= MAX_BATCH_TRIES || !RETRYABLE.has(errorCode(error) ?? '')) throw error;
          await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
        }
      }
    },
    async insertJob(job: NewJobRow, requests: NewRequestRow[]): Promise<JobRow> {
      for (const r of requests) if (r.jobId !== job.id) throw new Error(`request ${r.idx} is not of job ${job.id}`);
      const values = [
        ...JOB_INSERT_KEYS.map((key) => job[key] ?? null),
        requests.map((r) => r.idx),
        requests.map((r) => r.customId),
        requests.map((r) => r.prompt),
        requests.map((r) => r.paramsJson),
        requests.map((r) => r.expectedAnswer ?? null),
      ];
      const { rows } = await pool.query({ ...insertJobStatement, values });
      const [raw] = rows as Record<string, unknown>[];
      if (!raw) throw new Error(`job ${job.id} was not returned by its insert`);
      return mapJobRow(raw);
    },
    close: () => pool.end(),
  };
}

/** Applies the migrations while holding an advisory lock on a connection of its own. */
async function migrateLocked(pool: pg.Pool, url: string): Promise<void> {
  const lock = new pg.Client({ connectionString: url });
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await migrate(drizzle({ client: pool }), { migrationsFolder: PG_MIGRATIONS_DIR });
  } finally {
    await lock.end();
  }
}

/** The server's version, this pool's size and the synchronous_commit its sessions run with (for the start-up log). */
export async function describePostgres(handle: PostgresDb): Promise<{ serverVersion: string; poolSize: number; synchronousCommit: string }> {
  const { rows } = await handle.pool.query<{ v: string; s: string }>(
    "SELECT current_setting('server_version') AS v, current_setting('synchronous_commit') AS s",
  );
  return { serverVersion: rows[0]?.v ?? 'unknown', poolSize: handle.poolSize, synchronousCommit: rows[0]?.s ?? 'unknown' };
}

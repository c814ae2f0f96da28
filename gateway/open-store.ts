// The self-hosted store chosen from the environment: PostgreSQL when DMS_DATABASE_URL is set (several
// gateways may share it), else the SQLite file under DMS_DATA_DIR (one gateway). Migrations run here.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describeSqlite, openBetterSqlite, type SynchronousMode } from '../db/better-sqlite-db.js';
import type { SqlDb } from '../db/sql-db.js';
import { envNumber } from './local-setup.js';

type Env = Record<string, string | undefined>;

export type OpenedStore = { sqlDb: SqlDb; kind: 'postgres' | 'sqlite'; description: string; close(): Promise<void> };

/** The URL with its password masked, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/** DMS_PG_NAMED_STATEMENTS: unset or 1 names the hot statements; 0 does not (transaction-mode poolers). */
function namedStatementsFromEnv(value: string | undefined): boolean {
  if (value === undefined || value === '' || value === '1') return true;
  if (value === '0') return false;
  throw new Error(`DMS_PG_NAMED_STATEMENTS must be 0 or 1, got "${value}"`);
}

export async function openStoreFromEnv(env: Env, onIdleError: (error: Error) => void): Promise<OpenedStore> {
  const url = env.DMS_DATABASE_URL;
  if (url) {
    if (!/^postgres(ql)?:\/\//.test(url)) throw new Error('DMS_DATABASE_URL must be a postgres:// or postgresql:// URL');
    // Loaded only here, so that a SQLite gateway never loads pg.
    const { describePostgres, openPostgres } = await import('../db/pg/node-postgres-db.js');
    const handle = await openPostgres(url, {
      poolSize: envNumber(env, 'DMS_PG_POOL_SIZE', 10),
      statementTimeoutMs: envNumber(env, 'DMS_PG_STATEMENT_TIMEOUT_MS', 30_000),
      synchronousCommit: (env.DMS_PG_SYNCHRONOUS_COMMIT?.toLowerCase() || undefined) as 'on' | 'off' | undefined,
      namedStatements: namedStatementsFromEnv(env.DMS_PG_NAMED_STATEMENTS),
      onIdleError,
    });
    const info = await describePostgres(handle);
    return {
      sqlDb: handle,
      kind: 'postgres',
      description: `postgres ${info.serverVersion} at ${redactUrl(url)}, pool of ${info.poolSize} connections, synchronous_commit=${info.synchronousCommit}`,
      close: () => handle.close(),
    };
  }
  const dataDir = resolve(env.DMS_DATA_DIR || './data');
  mkdirSync(dataDir, { recursive: true });
  const handle = openBetterSqlite(join(dataDir, 'dms.sqlite'), {
    synchronous: (env.DMS_SQLITE_SYNCHRONOUS?.toUpperCase() || undefined) as SynchronousMode | undefined,
    busyTimeoutMs: env.DMS_SQLITE_BUSY_TIMEOUT_MS ? envNumber(env, 'DMS_SQLITE_BUSY_TIMEOUT_MS', 2000) : undefined,
  });
  const info = describeSqlite(handle.sqlite);
  return {
    sqlDb: handle,
    kind: 'sqlite',
    description: `sqlite ${join(dataDir, 'dms.sqlite')}: journal_mode=${info.journalMode} synchronous=${info.synchronous} busy_timeout=${info.busyTimeoutMs}ms`,
    close: async () => handle.close(),
  };
}

// The store under a load run: a SQLite file (one gateway) or a fresh PostgreSQL server (several
// gateways), with the audit that reads back every stored job's load id after the run.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import pg from 'pg';
import { integrityCheck } from '../../db/better-sqlite-db.js';
import { type PostgresServer, startPostgres } from './postgres-server.js';

export type LoadStore = 'sqlite' | 'postgres';

/** PostgreSQL durability under load: the server's default, or synchronous_commit off in the gateways' sessions. */
export type PgCommit = 'on' | 'off';

export type LoadStoreHandle = {
  kind: LoadStore;
  /** Environment the gateways need (DMS_DATABASE_URL for PostgreSQL). */
  gatewayEnv: Record<string, string>;
  dataDir: string;
  server: PostgresServer | null;
  close(): Promise<void>;
};

/** Connections per gateway on PostgreSQL: two gateways stay well inside the server's 100. */
export const LOAD_PG_POOL_SIZE = 16;

export async function startLoadStore(kind: LoadStore, dataDir: string, commit: PgCommit = 'on'): Promise<LoadStoreHandle> {
  if (kind === 'sqlite') return { kind, gatewayEnv: {}, dataDir, server: null, close: async () => {} };
  // fsync stays on (the server's durable default); the gateways choose synchronous_commit.
  const server = await startPostgres({ throwaway: false });
  return {
    kind,
    gatewayEnv: { DMS_DATABASE_URL: server.url, DMS_PG_POOL_SIZE: String(LOAD_PG_POOL_SIZE), DMS_PG_SYNCHRONOUS_COMMIT: commit },
    dataDir,
    server,
    close: async () => server.destroy(),
  };
}

/** Every stored job with the load id in its metadata, and whether the store is whole. */
export async function auditStoredJobs(store: LoadStoreHandle): Promise<{ rows: Array<{ id: string; load_id: string }>; integrityOk: boolean }> {
  if (!store.server) {
    const db = new Database(join(store.dataDir, 'dms.sqlite'), { readonly: true });
    try {
      const rows = db.prepare(`SELECT id, json_extract(metadata_json, '$.load_id') AS load_id FROM jobs`).all() as Array<{ id: string; load_id: string }>;
      return { rows, integrityOk: integrityCheck(db).ok };
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: store.server.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string; load_id: string }>(`SELECT id, (metadata_json::json)->>'load_id' AS load_id FROM jobs`);
    // Foreign keys hold by construction; a torn job would have fewer request rows than it counts.
    const torn = await client.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM jobs j WHERE j.num_requests <> (SELECT count(*) FROM requests r WHERE r.job_id = j.id)',
    );
    return { rows, integrityOk: torn.rows[0].n === 0 };
  } finally {
    await client.end();
  }
}

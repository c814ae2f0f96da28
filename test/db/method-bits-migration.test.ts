// Upgrading a database that holds jobs from before jobs.method_bits: the migration fills the bits of
// every job a runner may still claim from its requests' methods (METHOD_BITS), and leaves finished ones null.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle as sqliteDrizzle } from 'drizzle-orm/better-sqlite3';
import { migrate as sqliteMigrate } from 'drizzle-orm/better-sqlite3/migrator';
import { drizzle as pgDrizzle } from 'drizzle-orm/node-postgres';
import { migrate as pgMigrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR } from '../../db/better-sqlite-db.js';
import { openPostgres, PG_MIGRATIONS_DIR } from '../../db/pg/node-postgres-db.js';
import { methodBits, SYSTEM_DEFAULTS } from '../../protocol/index.js';
import { postgresAvailable, testPostgres } from './store-drivers.js';

const scratch = mkdtempSync(join(tmpdir(), 'dms-method-bits-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A copy of a migrations folder that stops before the migration tagged `beforeTag`. */
function migrationsBefore(dir: string, beforeTag: string): string {
  const journal = JSON.parse(readFileSync(join(dir, 'meta/_journal.json'), 'utf8')) as { entries: Array<{ tag: string }> };
  const stop = journal.entries.findIndex((e) => e.tag === beforeTag);
  expect(stop).toBeGreaterThan(0);
  const out = join(scratch, `${beforeTag}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(join(out, 'meta'), { recursive: true });
  const kept = journal.entries.slice(0, stop);
  for (const e of kept) copyFileSync(join(dir, `${e.tag}.sql`), join(out, `${e.tag}.sql`));
  writeFileSync(join(out, 'meta/_journal.json'), JSON.stringify({ ...journal, entries: kept }));
  return out;
}

/** Old jobs: [id, status, the methods of its requests, the bits expected after the upgrade]. */
const OLD_JOBS: Array<[string, string, string[], number | null]> = [
  ['job_mixed', 'queued', ['none', 'tova', 'tova'], methodBits(['none', 'tova'])],
  ['job_running', 'running', ['dms'], methodBits(['dms'])],
  ['job_window_quest', 'queued', ['window', 'quest', 'h2o'], methodBits(['window', 'quest', 'h2o'])],
  ['job_done', 'completed', ['tova'], null],
];

const params = (method: string) => JSON.stringify({ ...SYSTEM_DEFAULTS, compression: { method, ratio: method === 'none' ? 1 : 2 } });

/** Rows as a gateway before the upgrade wrote them (only the columns that existed). */
function oldRows(): { sql: string; values: unknown[] }[] {
  const rows = [{ sql: "INSERT INTO tenants (id, name, created_at) VALUES ('acme', 'acme', 1)", values: [] as unknown[] }];
  for (const [id, status, methods] of OLD_JOBS) {
    rows.push({
      sql: 'INSERT INTO jobs (id, tenant_id, model, status, num_requests, max_attempts, not_before, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 3, 1, 1, 1)',
      values: [id, 'acme', 'reasoner', status, methods.length],
    });
    for (const [idx, m] of methods.entries()) {
      rows.push({
        sql: "INSERT INTO requests (job_id, idx, custom_id, prompt, params_json, status) VALUES ($1, $2, $3, 'Q', $4, 'pending')",
        values: [id, idx, `r${idx}`, params(m)],
      });
    }
  }
  return rows;
}

describe('migration of jobs.method_bits', () => {
  it('SQLite (better-sqlite3; D1 and node:sqlite run the same file): fills the bits of claimable jobs', () => {
    const sqlite = new Database(':memory:');
    const db = sqliteDrizzle(sqlite);
    sqliteMigrate(db, { migrationsFolder: migrationsBefore(MIGRATIONS_DIR, '0004_job_method_bits') });
    for (const r of oldRows()) sqlite.prepare(r.sql.replace(/\$\d+/g, '?')).run(...(r.values as unknown[]));
    sqliteMigrate(db, { migrationsFolder: MIGRATIONS_DIR });
    const bits = sqlite.prepare('SELECT id, method_bits AS bits FROM jobs ORDER BY seq').all() as Array<{ id: string; bits: number | null }>;
    expect(bits.map((b) => [b.id, b.bits])).toEqual(OLD_JOBS.map(([id, , , expected]) => [id, expected]));
    sqlite.close();
  });

  // It needs an empty database of its own: a throwaway server (DMS_TEST_DATABASE_URL is already migrated).
  it.skipIf(!postgresAvailable() || Boolean(process.env.DMS_TEST_DATABASE_URL))(
    'PostgreSQL: fills the bits of claimable jobs',
    async () => {
      const server = await testPostgres();
      if (!server?.server) throw new Error('no throwaway PostgreSQL server');
      const url = await server.server.createDatabase(`method_bits_${process.pid}`);
      const pool = new pg.Pool({ connectionString: url });
      try {
        await pgMigrate(pgDrizzle({ client: pool }), { migrationsFolder: migrationsBefore(PG_MIGRATIONS_DIR, '0002_job_method_bits') });
        for (const r of oldRows()) await pool.query(r.sql, r.values);
        const handle = await openPostgres(url, { poolSize: 2 });
        await handle.close();
        const { rows } = await pool.query<{ id: string; bits: number | null }>('SELECT id, method_bits AS bits FROM jobs ORDER BY seq');
        expect(rows.map((b) => [b.id, b.bits])).toEqual(OLD_JOBS.map(([id, , , expected]) => [id, expected]));
      } finally {
        await pool.end();
        server.server?.destroy();
      }
    },
    120_000,
  );
});

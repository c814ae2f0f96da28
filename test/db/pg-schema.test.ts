// The PostgreSQL schema is db/schema.ts's twin: every table the store uses has the same properties
// and SQL column names (a column added on one side only compiles, but fails on the other driver).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getTableColumns, getTableName, type Table } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import * as pgSchema from '../../db/pg/schema.js';
import { SQLITE_TABLES, type StoreTables } from '../../db/sql-db.js';
import { COMPRESSION_LABELS, USAGE_FIELDS } from '../../protocol/usage-fields.js';

const columns = (table: Table) => Object.fromEntries(Object.entries(getTableColumns(table)).map(([key, c]) => [key, c.name]));

describe('pg schema', () => {
  const keys: Array<keyof StoreTables> = ['tenants', 'apiKeys', 'jobs', 'requests', 'runners', 'files', 'fileChunks', 'batches'];
  for (const key of keys) {
    it(`${key}: same table, properties and column names as on SQLite`, () => {
      const pgTable = (pgSchema as unknown as StoreTables)[key];
      expect(getTableName(pgTable)).toBe(getTableName(SQLITE_TABLES[key]));
      expect(columns(pgTable)).toEqual(columns(SQLITE_TABLES[key]));
    });
  }

  it('requests carry one column per usage field and compression label, integers as integer', () => {
    const cols = getTableColumns(pgSchema.requests) as Record<string, { name: string; getSQLType(): string }>;
    for (const f of USAGE_FIELDS) expect([f.wire, cols[f.engine]?.getSQLType()]).toEqual([f.wire, f.integer ? 'integer' : 'double precision']);
    for (const l of COMPRESSION_LABELS) expect(cols[l.engine]?.name).toBe(l.wire);
  });

  it('store code takes its tables from the handle: no db/ module outside the schemas and drivers imports a table value', () => {
    const dir = join(import.meta.dirname, '../../db');
    const allowed = new Set(['schema.ts', 'openai-schema.ts', 'sql-db.ts', 'better-sqlite-db.ts', 'node-sqlite-db.ts', 'd1-db.ts']);
    const offenders: string[] = [];
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && !allowed.has(f))) {
      const text = readFileSync(join(dir, file), 'utf8');
      for (const m of text.matchAll(/^import\s+(type\s+)?\{([^}]*)\}\s+from\s+'\.\/(?:openai-)?schema\.js'/gm)) {
        if (m[1]) continue;
        const values = m[2]
          .split(',')
          .map((n) => n.trim())
          .filter((n) => n && !n.startsWith('type '));
        if (values.length > 0) offenders.push(`${file}: ${values.join(', ')}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});

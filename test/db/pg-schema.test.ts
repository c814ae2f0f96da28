// The PostgreSQL schema is db/schema.ts's twin: every table the store uses has the same properties
// and SQL column names (a column added on one side only compiles, but fails on the other driver).
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
});

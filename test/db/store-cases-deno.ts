// Test helper run by Deno (not a test file): the store case suite on node:sqlite (:memory:),
// one line `CASES [{name, error}]` on stdout for store-cases.test.ts to check.
import { fileURLToPath } from 'node:url';
import { openNodeSqlite } from '../../db/node-sqlite-db.js';
import { caseContext, STORE_CASES } from './store-cases.js';

// Not MIGRATIONS_DIR from better-sqlite-db.ts: importing that module would load better-sqlite3, which Deno cannot.
const MIGRATIONS_DIR = fileURLToPath(new URL('../../db/migrations', import.meta.url));

const report: Array<{ name: string; error: string | null }> = [];
for (const c of STORE_CASES) {
  const handles: Array<{ close(): void }> = [];
  try {
    await c.run(
      await caseContext(async () => {
        const db = await openNodeSqlite(':memory:', MIGRATIONS_DIR);
        handles.push(db);
        return db;
      }, c.config),
    );
    report.push({ name: c.name, error: null });
  } catch (error) {
    report.push({ name: c.name, error: String((error as Error).stack ?? error) });
  } finally {
    for (const h of handles) h.close();
  }
}
console.log(`CASES ${JSON.stringify(report)}`);

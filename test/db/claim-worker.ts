// Test helper process (not a test): opens the SQLite file argv[2] on its own connection, prints
// "ready", waits for a line on stdin, then claims jobs until none is left and prints their ids.
import { createInterface } from 'node:readline';
import { openBetterSqlite } from '../../db/better-sqlite-db.js';
import { createJobStore } from '../../db/job-store.js';

const [path, runnerId] = process.argv.slice(2);
const sqlDb = openBetterSqlite(path, { migrate: false });
const store = createJobStore(sqlDb);
console.log('ready');
await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));
const claimed: string[] = [];
while (true) {
  const claim = await store.claim({ runnerId });
  if (!claim) break;
  claimed.push(claim.job.id);
}
sqlDb.close();
console.log(JSON.stringify(claimed));
process.exit(0);

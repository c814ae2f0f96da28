// The store case suite on every driver: better-sqlite3, D1 (Miniflare through getPlatformProxy),
// PostgreSQL (a throwaway server; never skipped in CI) and node:sqlite (the same cases under Deno).
import { describe, it } from 'vitest';
import { runToEnd, BIN } from '../runner-processes/processes.js';
import { caseContext, STORE_CASES } from './store-cases.js';
import { betterSqliteDriver, d1Driver, type Driver, postgresAvailable, postgresDriver } from './store-drivers.js';

function suite(name: string, open: () => Promise<Driver>, skip = false): void {
  describe.skipIf(skip)(`store on ${name}`, () => {
    let driver: Promise<Driver> | undefined;
    const get = () => {
      driver ??= open();
      return driver;
    };
    for (const c of STORE_CASES) {
      it(c.name, async () => {
        const run = async () => c.run(await caseContext((await get()).fresh, c.config));
        try {
          await run();
        } catch (error) {
          // Only a harness fault (see Driver.flaky) earns one rerun, on a reopened driver.
          const current = await get();
          if (!current.flaky?.(error)) throw error;
          await current.close().catch(() => {});
          driver = undefined;
          await run();
        }
      });
    }
    it('closes', async () => (await get()).close());
  });
}

suite('better-sqlite3', async () => betterSqliteDriver());
suite('D1 (Miniflare)', d1Driver);
suite('PostgreSQL', () => postgresDriver(), !postgresAvailable());

describe('store on node:sqlite (Deno)', () => {
  it('passes every case', async () => {
    const out = await runToEnd(BIN('deno'), ['run', '--allow-all', '--node-modules-dir=manual', '--unstable-sloppy-imports', 'test/db/store-cases-deno.ts'], {
      timeoutMs: 120_000,
    });
    const line = out.output.split('\n').find((l) => l.startsWith('CASES '));
    if (!line) throw new Error(`no case report from Deno (exit ${out.code}):\n${out.output}`);
    const report = JSON.parse(line.slice(6)) as Array<{ name: string; error: string | null }>;
    const failed = report.filter((r) => r.error);
    if (failed.length > 0 || report.length !== STORE_CASES.length) {
      throw new Error(`node:sqlite: ${failed.length} of ${report.length} cases failed:\n${failed.map((f) => `${f.name}: ${f.error}`).join('\n')}`);
    }
  }, 150_000);
});

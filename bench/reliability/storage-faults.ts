// Storage faults against the Node gateway: a full disk (the data dir on a 1 MiB tmpfs) and a locked
// database (another connection holds the write lock, or an exclusive lock). Each must give a clear
// 503 with Retry-After, keep serving, recover by itself, and leave an intact store.
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { integrityCheck } from '../../db/better-sqlite-db.js';
import { freePort, GatewayProcess, writeCatalogModels } from './gateway-process.js';

export interface DiskFullReport {
  /** 'tmpfs' (a real full file system) or 'skipped: <why>' where mounting is not permitted. */
  method: string;
  accepted_before_full: number;
  status_when_full: number | null;
  error_when_full: string | null;
  retry_after: string | null;
  reads_while_full: number | null;
  accepted_after_space_freed: boolean;
  accepted_jobs_lost: number;
  integrity_ok: boolean;
}

export interface LockedReport {
  write_status_while_locked: number;
  write_error: string | null;
  retry_after: string | null;
  read_status_while_write_locked: number;
  /** Five more submissions while the lock is held: each must be 503. */
  statuses_while_locked: number[];
  accepted_after_unlock: boolean;
  integrity_ok: boolean;
}

type Call = { status: number; type: string | null; reason: string | null; retryAfter: string | null; id: string | null };

async function call(url: string, apiKey: string, method: string, path: string, body?: unknown): Promise<Call> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json().catch(() => null)) as { id?: string; error?: { type: string; issues: Array<{ reason: string }> } } | null;
  return {
    status: res.status,
    type: json?.error?.type ?? null,
    reason: json?.error?.issues?.[0]?.reason ?? null,
    retryAfter: res.headers.get('retry-after'),
    id: json?.id ?? null,
  };
}

/** A job of ten 4 KiB prompts: about 40 KiB per submission, so a 1 MiB file system fills fast. */
const bigJob = (n: number) => ({
  requests: Array.from({ length: 10 }, (_, i) => ({ custom_id: `r${i}`, prompt: `${n}:${i}:`.padEnd(4096, 'x'), params: { max_tokens: 8 } })),
});

export async function runDiskFull(log: (m: string) => void = console.log): Promise<DiskFullReport> {
  const dir = mkdtempSync(join(tmpdir(), 'dms-disk-full-'));
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  const report: DiskFullReport = {
    method: 'tmpfs',
    accepted_before_full: 0,
    status_when_full: null,
    error_when_full: null,
    retry_after: null,
    reads_while_full: null,
    accepted_after_space_freed: false,
    accepted_jobs_lost: 0,
    integrity_ok: false,
  };
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dataDir], { stdio: 'pipe' });
  } catch (error) {
    report.method = `skipped: cannot mount a tmpfs here (${(error as Error).message.split('\n')[0]}); test/reliability covers SQLITE_FULL through max_page_count`;
    rmSync(dir, { recursive: true, force: true });
    return report;
  }
  const apiKey = `dms_full_${crypto.randomUUID()}`;
  writeCatalogModels(join(dir, 'models'), 1 << 20);
  const gateway = new GatewayProcess({ dataDir, modelsDir: join(dir, 'models'), port: await freePort(), apiKey, env: { DMS_RATE_LIMIT_RPS: '0' } });
  const accepted: string[] = [];
  try {
    await gateway.start();
    for (let n = 0; n < 200; n++) {
      const out = await call(gateway.url, apiKey, 'POST', '/v1/jobs', bigJob(n));
      if (out.status === 201 && out.id) {
        accepted.push(out.id);
        continue;
      }
      report.status_when_full = out.status;
      report.error_when_full = `${out.type}: ${out.reason}`;
      report.retry_after = out.retryAfter;
      break;
    }
    report.accepted_before_full = accepted.length;
    report.reads_while_full = (await call(gateway.url, apiKey, 'GET', `/v1/jobs/${accepted[0]}`)).status;
    // Free space without restarting anything: the next submission must simply work.
    execFileSync('mount', ['-o', 'remount,size=16m', dataDir], { stdio: 'pipe' });
    const after = await call(gateway.url, apiKey, 'POST', '/v1/jobs', bigJob(999));
    report.accepted_after_space_freed = after.status === 201;
    if (after.id) accepted.push(after.id);
    await gateway.stop();
    const db = new Database(join(dataDir, 'dms.sqlite'));
    report.integrity_ok = integrityCheck(db).ok;
    const stored = new Set((db.prepare('SELECT id FROM jobs').all() as Array<{ id: string }>).map((r) => r.id));
    report.accepted_jobs_lost = accepted.filter((id) => !stored.has(id)).length;
    db.close();
    log(
      `disk full: ${report.accepted_before_full} jobs accepted, then ${report.status_when_full} (${report.error_when_full}, Retry-After ${report.retry_after}); ` +
        `reads ${report.reads_while_full}; after freeing space ${report.accepted_after_space_freed ? '201' : 'still failing'}; lost ${report.accepted_jobs_lost}; integrity ${report.integrity_ok ? 'ok' : 'BROKEN'}`,
    );
    return report;
  } finally {
    await gateway.stop();
    try {
      execFileSync('umount', [dataDir], { stdio: 'pipe' });
    } catch {
      // already unmounted or never mounted
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runLocked(log: (m: string) => void = console.log): Promise<LockedReport> {
  const dir = mkdtempSync(join(tmpdir(), 'dms-locked-'));
  const apiKey = `dms_locked_${crypto.randomUUID()}`;
  writeCatalogModels(join(dir, 'models'));
  const gateway = new GatewayProcess({
    dataDir: join(dir, 'data'),
    modelsDir: join(dir, 'models'),
    port: await freePort(),
    apiKey,
    env: { DMS_RATE_LIMIT_RPS: '0', DMS_SQLITE_BUSY_TIMEOUT_MS: '250' },
  });
  const small = { requests: [{ custom_id: 'a', prompt: 'Q:1+1=' }] };
  try {
    await gateway.start();
    const first = await call(gateway.url, apiKey, 'POST', '/v1/jobs', small);
    const other = new Database(join(dir, 'data/dms.sqlite'));
    other.pragma('busy_timeout = 0');

    // 1. Another connection holds the write lock (a backup, a migration, a stuck tool): writes 503,
    //    reads still answer (WAL readers never wait for the writer). In WAL mode every connection
    //    keeps a shared lock on the file, so no other connection can lock readers out entirely.
    other.exec('BEGIN IMMEDIATE');
    const write = await call(gateway.url, apiKey, 'POST', '/v1/jobs', small);
    const read = await call(gateway.url, apiKey, 'GET', `/v1/jobs/${first.id}`);
    other.exec('ROLLBACK');

    // 2. The lock held across many calls: every write in the window answers 503, none 5xx otherwise.
    other.exec('BEGIN IMMEDIATE');
    const during: number[] = [];
    for (let i = 0; i < 5; i++) during.push((await call(gateway.url, apiKey, 'POST', '/v1/jobs', small)).status);
    other.exec('ROLLBACK');
    other.close();

    const after = await call(gateway.url, apiKey, 'POST', '/v1/jobs', small);
    await gateway.stop();
    const db = new Database(join(dir, 'data/dms.sqlite'));
    const integrity = integrityCheck(db);
    db.close();
    const report: LockedReport = {
      write_status_while_locked: write.status,
      write_error: write.type ? `${write.type}: ${write.reason}` : null,
      retry_after: write.retryAfter,
      read_status_while_write_locked: read.status,
      statuses_while_locked: during,
      accepted_after_unlock: after.status === 201,
      integrity_ok: integrity.ok,
    };
    log(
      `locked: write ${write.status} (${report.write_error}, Retry-After ${write.retryAfter}), read ${read.status}; then ${during.join('/')}; ` +
        `after unlock ${after.status}; integrity ${integrity.ok ? 'ok' : 'BROKEN'}`,
    );
    return report;
  } finally {
    await gateway.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  (async () => console.log(JSON.stringify({ disk_full: await runDiskFull(), locked: await runLocked() }, null, 2)))();
}

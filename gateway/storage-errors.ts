// Storage failures the client should retry rather than report as bugs: a locked/busy database, a
// full disk, an I/O or read-only error, a database server out of reach. Each becomes a 503 with Retry-After.
import type { Context } from 'hono';
import { apiError } from './http-errors.js';

export type StorageFailureKind = 'locked' | 'full' | 'io' | 'readonly' | 'unreachable';

export type StorageFailure = { kind: StorageFailureKind; code: string };

/**
 * SQLite result codes (better-sqlite3 `error.code`), PostgreSQL SQLSTATEs (node-postgres `error.code`:
 * 40001 serialisation, 40P01 deadlock, 55P03 lock, 57014 statement timeout; 53100 disk full;
 * 58030 I/O; 25006 read-only; 08xxx connection, 57P01-3 server shut down or starting, 53300 too many
 * connections) and socket errors, then D1 / node-postgres message spellings of each kind.
 */
const BY_CODE: Array<[RegExp, StorageFailureKind]> = [
  [/^SQLITE_(BUSY|LOCKED)|^40001$|^40P01$|^55P03$|^57014$/, 'locked'],
  [/^SQLITE_FULL$|^ENOSPC$|^EDQUOT$|^53100$/, 'full'],
  [/^SQLITE_IOERR|^EIO$|^58030$/, 'io'],
  [/^SQLITE_READONLY|^EROFS$|^25006$/, 'readonly'],
  [/^08...$|^57P0[123]$|^53300$|^ECONNREFUSED$|^ECONNRESET$|^ETIMEDOUT$|^EPIPE$|^EHOSTUNREACH$|^ENOTFOUND$/, 'unreachable'],
];
const BY_MESSAGE: Array<[RegExp, StorageFailureKind]> = [
  [/database( table)? is locked|database is busy|SQLITE_BUSY/i, 'locked'],
  [/database or disk is full|no space left on device|SQLITE_FULL/i, 'full'],
  [/disk I\/O error|SQLITE_IOERR/i, 'io'],
  [/attempt to write a readonly database|SQLITE_READONLY/i, 'readonly'],
  [/^Connection terminated|timeout exceeded when trying to connect|not queryable|Client was closed/i, 'unreachable'],
];

/** Finds a storage failure in an error or its `cause` chain (Drizzle wraps driver errors); else null. */
export function storageFailure(error: unknown): StorageFailure | null {
  let depth = 0;
  for (let e: unknown = error; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') {
      const hit = BY_CODE.find(([re]) => re.test(code));
      if (hit) return { kind: hit[1], code };
    }
    // Only the first line: a Drizzle message continues with the statement's parameters.
    const message = String((e as Error).message ?? '').split('\n')[0];
    const hit = BY_MESSAGE.find(([re]) => re.test(message));
    if (hit) return { kind: hit[1], code: typeof code === 'string' ? code : hit[1] };
  }
  return null;
}

const EXPLAIN: Record<StorageFailureKind, { message: string; retryAfterS: number }> = {
  locked: { message: 'the database is locked by another connection; nothing was stored, retry shortly', retryAfterS: 1 },
  full: { message: 'the storage is full; nothing was stored, retry after the operator frees space', retryAfterS: 30 },
  io: { message: 'the storage reported an I/O error; nothing was stored, retry later', retryAfterS: 10 },
  readonly: { message: 'the database is read-only at the moment; nothing was stored, retry later', retryAfterS: 30 },
  // The connection may have dropped after a commit: a retried submission should carry an Idempotency-Key.
  unreachable: {
    message: 'the database server cannot be reached; a write in flight may or may not have been stored, retry (with the same Idempotency-Key)',
    retryAfterS: 2,
  },
};

/** The 503 for a storage failure: type `unavailable`, field `storage`, reason the driver's code. */
export function storageUnavailable(c: Context, failure: StorageFailure): Response {
  const { message, retryAfterS } = EXPLAIN[failure.kind];
  c.header('Retry-After', String(retryAfterS));
  return apiError(c, 503, 'unavailable', message, [{ field: 'storage', reason: `${failure.kind} (${failure.code})` }]);
}

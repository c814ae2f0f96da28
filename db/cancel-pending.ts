// The one update that marks a job's still-pending requests canceled: cancel, release, finish and the
// lease sweep all issue it, each with its own guard (the fence, a queued job, an expired lease).
import { and, eq, type SQL } from 'drizzle-orm';
import type { SqlDb } from './sql-db.js';

/** The error a canceled request carries. */
export const CANCELED_REQUEST = { status: 'canceled', errorCode: 'canceled', errorMessage: 'the job was canceled' } as const;

/** UPDATE requests SET canceled WHERE status = 'pending' AND `where` (a statement for a batch). */
export function cancelPendingRequests({ db, tables: { requests } }: SqlDb, now: number, where: SQL | undefined) {
  return db
    .update(requests)
    .set({ ...CANCELED_REQUEST, finishedAt: now })
    .where(and(eq(requests.status, 'pending'), where));
}

// Leases: the atomic claim (one conditional UPDATE ... RETURNING), heartbeats that extend a lease
// and report cancellation, and the sweep that requeues, fails or cancels jobs whose lease expired.
import { and, asc, eq, gt, inArray, lte, sql, type SQL } from 'drizzle-orm';
import {
  type ClaimResponse,
  type CompressionMethod,
  type HeartbeatResponse,
  type PendingRequest,
  type RequestParams,
  type ResolvedParams,
  unservedBits,
} from '../protocol/index.js';
import { cancelPendingRequests } from './cancel-pending.js';
import { randomId } from './ids.js';
import type { ClaimInput, Fenced, SweepCounts } from './job-store.js';
import type { SqlDb, StoreTables } from './sql-db.js';
import type { StoreConfig } from './store-config.js';

/** The fence: the job is held under this token, the lease has not expired, and it is not finished. */
export function leaseHeld(jobs: StoreTables['jobs'], jobId: string, leaseToken: string, now: number): SQL {
  return and(eq(jobs.id, jobId), eq(jobs.leaseToken, leaseToken), gt(jobs.leaseExpiresAt, now), inArray(jobs.status, ['running', 'canceling'])) as SQL;
}

/** Columns that drop a lease. */
export const NO_LEASE = { leaseToken: null, leaseRunnerId: null, leaseExpiresAt: null } as const;

/**
 * A time in ms as an SQL value where nothing else gives it a type: PostgreSQL reads an untyped
 * parameter in CASE or arithmetic as text or int4 (too small for ms); SQLite's CAST is a no-op here.
 */
export const msValue = (ms: number): SQL => sql`cast(${ms} as bigint)`;

/** The larger of two integers, in SQL both dialects parse (SQLite's max(a, b) is greatest(a, b) on PostgreSQL). */
export const atLeast = (value: unknown, floor: number): SQL => sql`case when ${value} > ${floor} then ${value} else ${floor} end`;

/**
 * Jobs a runner serving `methods` can run: none of their requests' method bits is one it lacks. A job
 * stored before method_bits existed (null) goes to any runner, as does everything when `methods` is absent.
 */
export function servedBy(jobs: StoreTables['jobs'], methods: readonly CompressionMethod[] | undefined): SQL | undefined {
  const lacking = methods ? unservedBits(methods) : 0;
  return lacking === 0 ? undefined : sql`(coalesce(${jobs.methodBits}, 0) & cast(${lacking} as integer)) = 0`;
}

export function createLeaseOps(sqlDb: SqlDb, cfg: StoreConfig) {
  const { db } = sqlDb;
  const { jobs, requests, runners } = sqlDb.tables;

  async function recordRunner(runnerId: string, backend: string | undefined, now: number): Promise<void> {
    await db
      .insert(runners)
      .values({ id: runnerId, backend: backend ?? null, firstSeenAt: now, lastSeenAt: now })
      .onConflictDoUpdate({
        target: runners.id,
        set: backend === undefined ? { lastSeenAt: now } : { lastSeenAt: now, backend },
      });
  }

  async function sweep(): Promise<SweepCounts> {
    const now = cfg.clock();
    const expired = (status: 'running' | 'canceling') => and(eq(jobs.status, status), lte(jobs.leaseExpiresAt, now));
    const outOfAttempts = and(expired('running'), sql`${jobs.attempt} >= ${jobs.maxAttempts}`);
    const idsWhere = (where: SQL | undefined) => db.select({ id: jobs.id }).from(jobs).where(where);
    const reason = sql`'lease expired on attempt ' || ${jobs.attempt} || ' of ' || ${jobs.maxAttempts} || ' (runner ' || coalesce(${jobs.leaseRunnerId}, '?') || ')'`;
    // base * 2^(attempt - 1), capped; the shift is bounded so that it cannot overflow in either dialect.
    const shift = sql`case when ${jobs.attempt} > 21 then 20 else ${atLeast(sql`${jobs.attempt} - 1`, 0)} end`;
    const doubled = sql`${msValue(cfg.backoffBaseMs)} * (1 << ${shift})`;
    const backoff = sql`case when ${doubled} < ${cfg.backoffMaxMs} then ${doubled} else ${msValue(cfg.backoffMaxMs)} end`;
    // Order matters: request rows are finished while their job still matches, then the jobs move.
    const results = await sqlDb.batch([
      db
        .update(requests)
        .set({ status: 'failed', errorCode: 'lease_expired', errorMessage: 'the job ran out of attempts before this request finished', finishedAt: now })
        .where(and(eq(requests.status, 'pending'), inArray(requests.jobId, idsWhere(outOfAttempts)))),
      cancelPendingRequests(sqlDb, now, inArray(requests.jobId, idsWhere(expired('canceling')))),
      db
        .update(jobs)
        .set({ status: 'failed', failedAt: now, updatedAt: now, errorCode: 'lease_expired', errorMessage: reason, ...NO_LEASE })
        .where(outOfAttempts)
        .returning({ id: jobs.id }),
      db
        .update(jobs)
        .set({ status: 'canceled', canceledAt: now, updatedAt: now, ...NO_LEASE })
        .where(expired('canceling'))
        .returning({ id: jobs.id }),
      db
        .update(jobs)
        .set({ status: 'queued', notBefore: sql`${msValue(now)} + ${backoff}`, updatedAt: now, ...NO_LEASE })
        .where(expired('running'))
        .returning({ id: jobs.id }),
    ]);
    const n = (i: number) => (results[i] as unknown[]).length;
    return { failed: n(2), canceled: n(3), requeued: n(4) };
  }

  return {
    sweep,

    async claim(input: ClaimInput): Promise<ClaimResponse | null> {
      await sweep();
      const now = cfg.clock();
      await recordRunner(input.runnerId, input.backend, now);
      const claimable = and(
        eq(jobs.status, 'queued'),
        lte(jobs.notBefore, now),
        input.models ? inArray(jobs.model, input.models) : undefined,
        servedBy(jobs, input.methods),
      );
      const oldest = db.select({ id: jobs.id }).from(jobs).where(claimable).orderBy(asc(jobs.seq)).limit(1);
      const locked = sqlDb.claimLock ? sql`${oldest.getSQL()} ${sqlDb.claimLock}` : oldest;
      const leaseToken = randomId('lease', 16);
      const [row] = await db
        .update(jobs)
        .set({
          status: 'running',
          leaseToken,
          leaseRunnerId: input.runnerId,
          leaseExpiresAt: now + cfg.leaseMs,
          attempt: sql`${jobs.attempt} + 1`,
          startedAt: sql`coalesce(${jobs.startedAt}, ${msValue(now)})`,
          updatedAt: now,
        })
        .where(and(sql`${jobs.id} = (${locked})`, eq(jobs.status, 'queued')))
        .returning();
      if (!row) return null;
      const pending = await db
        .select({ customId: requests.customId, prompt: requests.prompt, paramsJson: requests.paramsJson })
        .from(requests)
        .where(and(eq(requests.jobId, row.id), eq(requests.status, 'pending')))
        .orderBy(asc(requests.idx));
      const pendingRequests: PendingRequest[] = pending.map((r) => ({
        custom_id: r.customId,
        prompt: r.prompt,
        params: JSON.parse(r.paramsJson) as ResolvedParams,
      }));
      return {
        job: {
          id: row.id,
          model: row.model,
          num_requests: row.numRequests,
          defaults: row.defaultsJson ? (JSON.parse(row.defaultsJson) as RequestParams) : null,
          metadata: row.metadataJson ? (JSON.parse(row.metadataJson) as Record<string, string>) : null,
        },
        lease: { lease_token: leaseToken, attempt: row.attempt, expires_at: new Date(now + cfg.leaseMs).toISOString() },
        requests: pendingRequests,
      };
    },

    async heartbeat(jobId: string, leaseToken: string): Promise<Fenced<HeartbeatResponse>> {
      const now = cfg.clock();
      const [row] = await db
        .update(jobs)
        .set({ leaseExpiresAt: now + cfg.leaseMs, updatedAt: now })
        .where(leaseHeld(jobs, jobId, leaseToken, now))
        .returning({ expiresAt: jobs.leaseExpiresAt, cancelRequested: jobs.cancelRequested, runnerId: jobs.leaseRunnerId });
      if (!row) return { ok: false, reason: 'stale_lease' };
      if (row.runnerId) await recordRunner(row.runnerId, undefined, now);
      return { ok: true, value: { expires_at: new Date(row.expiresAt as number).toISOString(), cancel_requested: row.cancelRequested } };
    },
  };
}

// The PostgreSQL twin of db/schema.ts: the same tables, column names and JS types, in the pg dialect
// (ms times as bigint, flags as boolean, measures as double precision). Keep the two files in step.
import { bigint, boolean, index, integer, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { pgLabelColumns, pgUsageColumns } from './usage-columns.js';

/** Milliseconds since the epoch do not fit a 32-bit integer: time columns (and the seq counters, 64-bit as
 *  on SQLite) are bigints read as JS numbers. */
const ms = (name: string) => bigint(name, { mode: 'number' });

/** A tenant owns API keys and jobs; it never sees another tenant's jobs. */
export const tenants = pgTable('tenants', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  createdAt: ms('created_at').notNull(),
});

/** Client API keys; only the SHA-256 of a key is stored. */
export const apiKeys = pgTable('api_keys', {
  id: text('id').primaryKey(),
  tenantId: text('tenant_id')
    .notNull()
    .references(() => tenants.id),
  keyHash: text('key_hash').notNull().unique(),
  label: text('label'),
  createdAt: ms('created_at').notNull(),
  revokedAt: ms('revoked_at'),
});

export const jobs = pgTable(
  'jobs',
  {
    seq: ms('seq').primaryKey().generatedAlwaysAsIdentity(), // insertion order: claim order and list cursor
    id: text('id').notNull().unique(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    model: text('model').notNull(),
    status: text('status', { enum: ['queued', 'running', 'completed', 'failed', 'canceling', 'canceled'] }).notNull(),
    defaultsJson: text('defaults_json'),
    metadataJson: text('metadata_json'),
    idempotencyKey: text('idempotency_key'),
    bodyHash: text('body_hash'),
    numRequests: integer('num_requests').notNull(),
    methodBits: integer('method_bits'),
    attempt: integer('attempt').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull(),
    notBefore: ms('not_before').notNull(),
    leaseToken: text('lease_token'),
    leaseRunnerId: text('lease_runner_id'),
    leaseExpiresAt: ms('lease_expires_at'),
    cancelRequested: boolean('cancel_requested').notNull().default(false),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    createdAt: ms('created_at').notNull(),
    startedAt: ms('started_at'),
    cancelRequestedAt: ms('cancel_requested_at'),
    completedAt: ms('completed_at'),
    failedAt: ms('failed_at'),
    canceledAt: ms('canceled_at'),
    updatedAt: ms('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('jobs_tenant_idempotency').on(t.tenantId, t.idempotencyKey),
    index('jobs_tenant_seq').on(t.tenantId, t.seq),
    index('jobs_claim').on(t.status, t.notBefore, t.seq),
    index('jobs_lease_expiry').on(t.status, t.leaseExpiresAt),
  ],
);

/** One row per request; the result columns stay null while status is 'pending'. */
export const requests = pgTable(
  'requests',
  {
    jobId: text('job_id')
      .notNull()
      .references(() => jobs.id),
    idx: integer('idx').notNull(),
    customId: text('custom_id').notNull(),
    prompt: text('prompt').notNull(),
    paramsJson: text('params_json').notNull(),
    status: text('status', { enum: ['pending', 'succeeded', 'failed', 'canceled'] }).notNull(),
    answer: text('answer'),
    threadsJson: text('threads_json'),
    timingsJson: text('timings_json'),
    backend: text('backend'),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    // One column per usage field and compression label (protocol/usage-fields.ts), as on SQLite.
    ...pgUsageColumns(),
    ...pgLabelColumns(),
    expectedAnswer: text('expected_answer'),
    correct: boolean('correct'), // the voted answer equals expected_answer; null when ungraded
    attempt: integer('attempt'),
    finishedAt: ms('finished_at'),
  },
  (t) => [
    primaryKey({ columns: [t.jobId, t.idx] }),
    uniqueIndex('requests_job_custom_id').on(t.jobId, t.customId),
    index('requests_job_status').on(t.jobId, t.status),
  ],
);

/** Runners seen by claim and heartbeat, with the backend they report (shown in /healthz). */
export const runners = pgTable('runners', {
  id: text('id').primaryKey(),
  backend: text('backend'),
  firstSeenAt: ms('first_seen_at').notNull(),
  lastSeenAt: ms('last_seen_at').notNull(),
});

// The OpenAI-compatible Batch API's tables (files, file_chunks, batches) live in their own module.
export * from './openai-schema.js';

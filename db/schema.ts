// The Drizzle schema shared by better-sqlite3 and D1: tenants and their API keys, jobs (with the
// lease columns the runner protocol fences on), one row per request (with its result), runners seen.
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { labelColumns, usageColumns } from './usage-columns.js';

/** A tenant owns API keys and jobs; it never sees another tenant's jobs. */
export const tenants = sqliteTable('tenants', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  createdAt: integer('created_at').notNull(), // ms since epoch, like every time column here
});

/** Client API keys; only the SHA-256 of a key is stored. */
export const apiKeys = sqliteTable('api_keys', {
  id: text('id').primaryKey(),
  tenantId: text('tenant_id')
    .notNull()
    .references(() => tenants.id),
  keyHash: text('key_hash').notNull().unique(),
  label: text('label'),
  createdAt: integer('created_at').notNull(),
  revokedAt: integer('revoked_at'),
});

export const jobs = sqliteTable(
  'jobs',
  {
    seq: integer('seq').primaryKey({ autoIncrement: true }), // insertion order: claim order and list cursor
    id: text('id').notNull().unique(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    model: text('model').notNull(),
    status: text('status', { enum: ['queued', 'running', 'completed', 'failed', 'canceling', 'canceled'] }).notNull(),
    defaultsJson: text('defaults_json'), // the defaults as submitted, for display; requests hold resolved params
    metadataJson: text('metadata_json'),
    idempotencyKey: text('idempotency_key'),
    bodyHash: text('body_hash'), // SHA-256 of the canonical body, compared on idempotent replays
    numRequests: integer('num_requests').notNull(),
    // The compression methods its requests use (protocol/backend-methods.ts METHOD_BITS, OR-ed): a claim skips jobs the runner's backend cannot serve. Null: unknown (any runner).
    methodBits: integer('method_bits'),
    attempt: integer('attempt').notNull().default(0), // claims so far (a release gives one back)
    maxAttempts: integer('max_attempts').notNull(),
    notBefore: integer('not_before').notNull(), // earliest claim time (backoff after an expired lease)
    leaseToken: text('lease_token'),
    leaseRunnerId: text('lease_runner_id'),
    leaseExpiresAt: integer('lease_expires_at'),
    cancelRequested: integer('cancel_requested', { mode: 'boolean' }).notNull().default(false),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    createdAt: integer('created_at').notNull(),
    startedAt: integer('started_at'),
    cancelRequestedAt: integer('cancel_requested_at'),
    completedAt: integer('completed_at'),
    failedAt: integer('failed_at'),
    canceledAt: integer('canceled_at'),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('jobs_tenant_idempotency').on(t.tenantId, t.idempotencyKey),
    index('jobs_tenant_seq').on(t.tenantId, t.seq),
    index('jobs_claim').on(t.status, t.notBefore, t.seq),
    index('jobs_lease_expiry').on(t.status, t.leaseExpiresAt),
  ],
);

/** One row per request; the result columns stay null while status is 'pending'. */
export const requests = sqliteTable(
  'requests',
  {
    jobId: text('job_id')
      .notNull()
      .references(() => jobs.id),
    idx: integer('idx').notNull(), // position in the submitted batch; results stream in this order
    customId: text('custom_id').notNull(),
    prompt: text('prompt').notNull(),
    paramsJson: text('params_json').notNull(), // resolved params (defaults merged)
    status: text('status', { enum: ['pending', 'succeeded', 'failed', 'canceled'] }).notNull(),
    answer: text('answer'),
    threadsJson: text('threads_json'),
    timingsJson: text('timings_json'),
    backend: text('backend'),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    // One column per usage field and compression label (protocol/usage-fields.ts); prompt_tokens null means no usage.
    ...usageColumns(),
    ...labelColumns(),
    expectedAnswer: text('expected_answer'), // from the submission; results are graded against it
    correct: integer('correct', { mode: 'boolean' }), // the voted answer equals expected_answer; null when ungraded
    attempt: integer('attempt'), // the job attempt whose runner wrote this result
    finishedAt: integer('finished_at'),
  },
  (t) => [
    primaryKey({ columns: [t.jobId, t.idx] }),
    uniqueIndex('requests_job_custom_id').on(t.jobId, t.customId),
    index('requests_job_status').on(t.jobId, t.status),
  ],
);

/** Runners seen by claim and heartbeat, with the backend they report (shown in /healthz). */
export const runners = sqliteTable('runners', {
  id: text('id').primaryKey(),
  backend: text('backend'),
  firstSeenAt: integer('first_seen_at').notNull(),
  lastSeenAt: integer('last_seen_at').notNull(),
});

export type JobRow = typeof jobs.$inferSelect;
export type RequestRow = typeof requests.$inferSelect;

// The OpenAI-compatible Batch API's tables (files, file_chunks, batches) live in their own module.
export * from './openai-schema.js';

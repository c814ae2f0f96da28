// The PostgreSQL twin of db/openai-schema.ts: files, file_chunks and batches with the same columns
// and JS types in the pg dialect. Keep the two files in step.
import { bigint, boolean, index, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { BATCH_STATUSES } from '../openai-schema.js';
import { jobs, tenants } from './schema.js';

const ms = (name: string) => bigint(name, { mode: 'number' });

/** A file: uploaded (content in file_chunks) or generated from a job (`sourceJobId` + `sourceKind`). */
export const files = pgTable(
  'files',
  {
    seq: ms('seq').primaryKey().generatedAlwaysAsIdentity(),
    id: text('id').notNull().unique(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    purpose: text('purpose', { enum: ['batch', 'batch_output'] }).notNull(),
    filename: text('filename').notNull(),
    bytes: integer('bytes').notNull(),
    numChunks: integer('num_chunks').notNull(),
    sourceJobId: text('source_job_id').references(() => jobs.id),
    sourceKind: text('source_kind', { enum: ['output', 'error'] }),
    createdAt: ms('created_at').notNull(),
    expiresAt: ms('expires_at'), // null: kept until deleted; past it the file reads as gone and the sweep purges it
    deletedAt: ms('deleted_at'), // deleted or purged: content dropped, the row kept so batches still name it
  },
  (t) => [index('files_tenant_seq').on(t.tenantId, t.seq), index('files_expiry').on(t.deletedAt, t.expiresAt)],
);

/** Content of an uploaded file, in order (chunked as on D1, so both stores hold the same rows). */
export const fileChunks = pgTable(
  'file_chunks',
  {
    fileId: text('file_id')
      .notNull()
      .references(() => files.id),
    idx: integer('idx').notNull(),
    data: text('data').notNull(),
  },
  (t) => [primaryKey({ columns: [t.fileId, t.idx] })],
);

/** A batch: validated from an input file into one job; its status follows the job's. */
export const batches = pgTable(
  'batches',
  {
    seq: ms('seq').primaryKey().generatedAlwaysAsIdentity(),
    id: text('id').notNull().unique(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    endpoint: text('endpoint').notNull(),
    inputFileId: text('input_file_id')
      .notNull()
      .references(() => files.id),
    completionWindow: text('completion_window').notNull(),
    status: text('status', { enum: BATCH_STATUSES }).notNull(),
    jobId: text('job_id').references(() => jobs.id),
    model: text('model'),
    numRequests: integer('num_requests').notNull().default(0),
    errorsJson: text('errors_json'),
    metadataJson: text('metadata_json'),
    outputExpiresAfterSeconds: integer('output_expires_after_seconds'),
    expiring: boolean('expiring').notNull().default(false),
    outputFileId: text('output_file_id'),
    errorFileId: text('error_file_id'),
    createdAt: ms('created_at').notNull(),
    inProgressAt: ms('in_progress_at'),
    expiresAt: ms('expires_at').notNull(),
    finalizingAt: ms('finalizing_at'),
    completedAt: ms('completed_at'),
    failedAt: ms('failed_at'),
    expiredAt: ms('expired_at'),
    cancellingAt: ms('cancelling_at'),
    cancelledAt: ms('cancelled_at'),
    updatedAt: ms('updated_at').notNull(),
  },
  (t) => [index('batches_tenant_seq').on(t.tenantId, t.seq), index('batches_job').on(t.jobId)],
);

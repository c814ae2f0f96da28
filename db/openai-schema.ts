// Tables of the OpenAI-compatible Batch API: uploaded files (content in chunks that fit D1's row
// limit), files generated from a job's results (rendered on read), and batches mapped onto jobs.
import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { jobs, tenants } from './schema.js';

export const BATCH_STATUSES = ['validating', 'failed', 'in_progress', 'finalizing', 'completed', 'expired', 'cancelling', 'cancelled'] as const;

/** A file: uploaded (content in file_chunks) or generated from a job (`sourceJobId` + `sourceKind`). */
export const files = sqliteTable(
  'files',
  {
    seq: integer('seq').primaryKey({ autoIncrement: true }), // list order
    id: text('id').notNull().unique(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id),
    purpose: text('purpose', { enum: ['batch', 'batch_output'] }).notNull(),
    filename: text('filename').notNull(),
    bytes: integer('bytes').notNull(), // UTF-8 size of the content
    numChunks: integer('num_chunks').notNull(), // rows in file_chunks; 0 for generated files
    sourceJobId: text('source_job_id').references(() => jobs.id), // generated files: the job rendered
    sourceKind: text('source_kind', { enum: ['output', 'error'] }),
    createdAt: integer('created_at').notNull(), // ms since epoch, like every time column here
    expiresAt: integer('expires_at'), // null: kept until deleted; past it the file reads as gone and the sweep purges it
    deletedAt: integer('deleted_at'), // deleted or purged: content dropped, the row kept so batches still name it
  },
  (t) => [index('files_tenant_seq').on(t.tenantId, t.seq), index('files_expiry').on(t.deletedAt, t.expiresAt)],
);

/** Content of an uploaded file, in order; each chunk stays far below D1's 2 MB row limit. */
export const fileChunks = sqliteTable(
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
export const batches = sqliteTable(
  'batches',
  {
    seq: integer('seq').primaryKey({ autoIncrement: true }),
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
    jobId: text('job_id').references(() => jobs.id), // null until validated, and for failed batches
    model: text('model'),
    numRequests: integer('num_requests').notNull().default(0), // lines of the input (set when validated)
    errorsJson: text('errors_json'), // validation errors [{code, message, param, line}]
    metadataJson: text('metadata_json'),
    outputExpiresAfterSeconds: integer('output_expires_after_seconds'), // output/error files expire this long after they are created
    expiring: integer('expiring', { mode: 'boolean' }).notNull().default(false), // its job was canceled because the window passed
    outputFileId: text('output_file_id'),
    errorFileId: text('error_file_id'),
    createdAt: integer('created_at').notNull(),
    inProgressAt: integer('in_progress_at'),
    expiresAt: integer('expires_at').notNull(),
    finalizingAt: integer('finalizing_at'),
    completedAt: integer('completed_at'),
    failedAt: integer('failed_at'),
    expiredAt: integer('expired_at'),
    cancellingAt: integer('cancelling_at'),
    cancelledAt: integer('cancelled_at'),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('batches_tenant_seq').on(t.tenantId, t.seq), index('batches_job').on(t.jobId)],
);

export type FileRow = typeof files.$inferSelect;
export type BatchRow = typeof batches.$inferSelect;
export type BatchStatus = (typeof BATCH_STATUSES)[number];

// Store operations of the OpenAI-compatible Batch API: files (uploaded content in chunks; output and
// error files rendered from a job), batches with conditional status moves, and a batch's results.
import { and, asc, desc, eq, gt, inArray, isNull, lte, lt, ne, or, type SQL } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import type { RequestResult, ResolvedParams } from '../protocol/index.js';
import { resultView } from './job-views.js';
import type { BatchRow, BatchStatus, FileRow } from './openai-schema.js';
import type { SqlDb, StoreTables } from './sql-db.js';
import type { StoreConfig } from './store-config.js';

/** Characters per stored chunk: at most 3 UTF-8 bytes each, so a chunk stays under 1 MB (D1 rows: 2 MB). */
export const FILE_CHUNK_CHARS = 256 * 1024;

export type NewFile = { id: string; tenantId: string; filename: string; content: string; expiresAt: number | null };
export type GeneratedFile = {
  id: string;
  tenantId: string;
  filename: string;
  bytes: number;
  sourceJobId: string;
  sourceKind: 'output' | 'error';
  expiresAt: number | null;
};
export type NewBatch = Omit<BatchRow, 'seq' | 'updatedAt'>;
export type BatchResultRow = { idx: number; result: RequestResult; params: ResolvedParams };
export type PageOpts = { limit: number; after?: string; order?: 'asc' | 'desc' };

export interface OpenAiStore {
  /** Stores an uploaded batch input file (purpose batch) with its content, in one atomic batch. */
  createFile(file: NewFile): Promise<FileRow>;
  getFile(tenantId: string, fileId: string): Promise<FileRow | null>;
  /** The tenant's files, newest first unless `order` is asc; `after` is the last id of the previous page. */
  listFiles(tenantId: string, opts: PageOpts & { purpose?: string }): Promise<{ rows: FileRow[]; hasMore: boolean }>;
  /** The full text of an uploaded file. */
  readFileContent(fileId: string): Promise<string>;
  /** Deletes a file: its content goes, its row stays (batches name it) and reads as not found. False when there was none. */
  deleteFile(tenantId: string, fileId: string): Promise<boolean>;
  /** Deletes every file whose expires_at has passed (up to `limit` per call); the count deleted. */
  purgeExpiredFiles(limit?: number): Promise<number>;
  insertBatch(batch: NewBatch): Promise<BatchRow>;
  getBatch(tenantId: string, batchId: string): Promise<BatchRow | null>;
  listBatches(tenantId: string, opts: PageOpts): Promise<{ rows: BatchRow[]; hasMore: boolean }>;
  /** The batch a job runs (its output and error files are rendered from the job). */
  getBatchByJob(jobId: string): Promise<BatchRow | null>;
  /** Moves a batch only while its status is one of `from`; null when it had already moved on. */
  updateBatch(batchId: string, from: BatchStatus[], set: Partial<NewBatch>): Promise<BatchRow | null>;
  /** Registers the generated files and moves the batch, atomically (files are idempotent by id). */
  finalizeBatch(batchId: string, from: BatchStatus[], generated: GeneratedFile[], set: Partial<NewBatch>): Promise<BatchRow | null>;
  /** Finished requests of a job in submission order (`afterIdx` exclusive), with their resolved params. */
  listBatchResults(jobId: string, afterIdx: number, limit: number): Promise<BatchResultRow[]>;
}

const utf8Bytes = (text: string) => new TextEncoder().encode(text).length;

export function createOpenAiOps(sqlDb: SqlDb, cfg: StoreConfig): OpenAiStore {
  const { db } = sqlDb;
  const { batches, fileChunks, files, requests } = sqlDb.tables;

  /** A file a tenant can still see: not deleted, not past its expiry. */
  const visibleFile = () => and(isNull(files.deletedAt), or(isNull(files.expiresAt), gt(files.expiresAt, cfg.clock())));

  /** Drops files' content and marks them deleted, in one atomic batch (ids chunked under D1's parameter limit). */
  async function dropFiles(ids: string[]): Promise<void> {
    const now = cfg.clock();
    for (let i = 0; i < ids.length; i += 50) {
      const some = ids.slice(i, i + 50);
      await sqlDb.batch([
        db.delete(fileChunks).where(inArray(fileChunks.fileId, some)),
        db.update(files).set({ deletedAt: now }).where(inArray(files.id, some)),
      ]);
    }
  }

  /** A page by insertion order; the cursor is the `seq` of the row named by `after`. */
  async function page<T extends { seq: number }>(
    table: StoreTables['files'] | StoreTables['batches'],
    tenantId: string,
    opts: PageOpts,
    extra?: SQL,
  ): Promise<{ rows: T[]; hasMore: boolean }> {
    const mine = and(eq(table.tenantId, tenantId), extra);
    let cursor: SQL | undefined;
    if (opts.after) {
      const [row] = await db
        .select({ seq: table.seq })
        .from(table)
        .where(and(mine, eq(table.id, opts.after)))
        .limit(1);
      if (!row) return { rows: [], hasMore: false };
      cursor = opts.order === 'asc' ? gt(table.seq, row.seq) : lt(table.seq, row.seq);
    }
    const rows = (await db
      .select()
      .from(table)
      .where(and(mine, cursor))
      .orderBy(opts.order === 'asc' ? asc(table.seq) : desc(table.seq))
      .limit(opts.limit + 1)) as unknown as T[];
    return { rows: rows.slice(0, opts.limit), hasMore: rows.length > opts.limit };
  }

  async function batchById(batchId: string): Promise<BatchRow | null> {
    const [row] = await db.select().from(batches).where(eq(batches.id, batchId)).limit(1);
    return row ?? null;
  }

  async function getFile(tenantId: string, fileId: string): Promise<FileRow | null> {
    const [row] = await db
      .select()
      .from(files)
      .where(and(eq(files.id, fileId), eq(files.tenantId, tenantId), visibleFile()))
      .limit(1);
    return row ?? null;
  }

  return {
    async createFile({ id, tenantId, filename, content, expiresAt }) {
      const chunks: string[] = [];
      for (let i = 0; i < content.length; i += FILE_CHUNK_CHARS) chunks.push(content.slice(i, i + FILE_CHUNK_CHARS));
      const now = cfg.clock();
      const row = {
        id,
        tenantId,
        purpose: 'batch' as const,
        filename,
        bytes: utf8Bytes(content),
        numChunks: chunks.length,
        sourceJobId: null,
        sourceKind: null,
        createdAt: now,
        expiresAt,
        deletedAt: null,
      };
      await sqlDb.batch([db.insert(files).values(row), ...chunks.map((data, idx) => db.insert(fileChunks).values({ fileId: id, idx, data }))]);
      return (await getFile(tenantId, id)) as FileRow;
    },

    getFile,

    listFiles: (tenantId, opts) =>
      page<FileRow>(files, tenantId, opts, and(visibleFile(), opts.purpose ? eq(files.purpose, opts.purpose as FileRow['purpose']) : undefined)),

    async readFileContent(fileId) {
      const rows = await db.select({ data: fileChunks.data }).from(fileChunks).where(eq(fileChunks.fileId, fileId)).orderBy(asc(fileChunks.idx));
      return rows.map((r) => r.data).join('');
    },

    async deleteFile(tenantId, fileId) {
      if (!(await getFile(tenantId, fileId))) return false;
      await dropFiles([fileId]);
      return true;
    },

    async purgeExpiredFiles(limit = 500) {
      const due = await db
        .select({ id: files.id })
        .from(files)
        .where(and(isNull(files.deletedAt), lte(files.expiresAt, cfg.clock())))
        .limit(limit);
      await dropFiles(due.map((f) => f.id));
      return due.length;
    },

    async insertBatch(batch) {
      await db.insert(batches).values({ ...batch, updatedAt: cfg.clock() });
      return (await batchById(batch.id)) as BatchRow;
    },

    async getBatch(tenantId, batchId) {
      const [row] = await db
        .select()
        .from(batches)
        .where(and(eq(batches.id, batchId), eq(batches.tenantId, tenantId)))
        .limit(1);
      return row ?? null;
    },

    listBatches: (tenantId, opts) => page<BatchRow>(batches, tenantId, opts),

    async getBatchByJob(jobId) {
      const [row] = await db.select().from(batches).where(eq(batches.jobId, jobId)).limit(1);
      return row ?? null;
    },

    async updateBatch(batchId, from, set) {
      const [row] = await db
        .update(batches)
        .set({ ...set, updatedAt: cfg.clock() })
        .where(and(eq(batches.id, batchId), inArray(batches.status, from)))
        .returning();
      return row ?? null;
    },

    async finalizeBatch(batchId, from, generated, set) {
      const now = cfg.clock();
      const statements: BatchItem<'sqlite'>[] = generated.map((f) =>
        db
          .insert(files)
          .values({ ...f, purpose: 'batch_output', numChunks: 0, createdAt: now, expiresAt: f.expiresAt })
          .onConflictDoNothing({ target: files.id }),
      );
      statements.push(
        db
          .update(batches)
          .set({ ...set, updatedAt: now })
          .where(and(eq(batches.id, batchId), inArray(batches.status, from)))
          .returning(),
      );
      const out = await sqlDb.batch(statements);
      const [row] = out[out.length - 1] as BatchRow[];
      return row ?? null;
    },

    async listBatchResults(jobId, afterIdx, limit) {
      const rows = await db
        .select()
        .from(requests)
        .where(and(eq(requests.jobId, jobId), ne(requests.status, 'pending'), gt(requests.idx, afterIdx)))
        .orderBy(asc(requests.idx))
        .limit(limit);
      return rows.map((r) => ({ idx: r.idx, result: resultView(r), params: JSON.parse(r.paramsJson) as ResolvedParams }));
    },
  };
}

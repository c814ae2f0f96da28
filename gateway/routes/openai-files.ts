// OpenAI-compatible files under /v1/files: upload a JSONL batch input (multipart, purpose batch),
// read a file's object or content, list files. Output and error files are rendered from their job.
import { Hono } from 'hono';
import type { FileRow } from '../../db/openai-schema.js';
import { zodIssues } from '../../protocol/index.js';
import { DEFAULT_INPUT_FILE_TTL_SECONDS, ExpiresAfterSchema, type OpenAiFile, type OpenAiFileDeleted } from '../../protocol/openai-objects.js';
import type { ClientEnv } from '../auth.js';
import { renderBatchFile } from './openai-batch-lifecycle.js';
import { listPage, listQuery, newFileId, type OpenAiDeps, openAiError, openAiNotFound, unixSeconds } from './openai-common.js';

export function fileView(row: FileRow): OpenAiFile {
  return {
    id: row.id,
    object: 'file',
    bytes: row.bytes,
    created_at: unixSeconds(row.createdAt),
    filename: row.filename,
    purpose: row.purpose,
    status: 'processed',
    expires_at: unixSeconds(row.expiresAt),
    status_details: null,
  };
}

const JSONL = 'application/jsonl; charset=utf-8';

type Form = Record<string, string | File | (string | File)[]>;

/**
 * The upload's `expires_after`: the SDKs send form fields `expires_after[anchor]` and
 * `expires_after[seconds]`; a JSON value in one `expires_after` field is taken too. Absent: 30 days.
 */
function expiresAfter(form: Form): { ok: true; seconds: number } | { ok: false; field: string; reason: string } {
  const anchor = form['expires_after[anchor]'];
  const seconds = form['expires_after[seconds]'];
  let value: unknown;
  if (typeof form.expires_after === 'string') {
    try {
      value = JSON.parse(form.expires_after);
    } catch {
      return { ok: false, field: 'expires_after', reason: 'must be {"anchor": "created_at", "seconds": N}' };
    }
  } else if (anchor !== undefined || seconds !== undefined) {
    value = { anchor, seconds: typeof seconds === 'string' && seconds.trim() !== '' ? Number(seconds) : seconds };
  } else {
    return { ok: true, seconds: DEFAULT_INPUT_FILE_TTL_SECONDS };
  }
  const parsed = ExpiresAfterSchema.safeParse(value);
  if (parsed.success) return { ok: true, seconds: parsed.data.seconds };
  const [first] = zodIssues(parsed.error, 'expires_after');
  return { ok: false, field: first.field, reason: first.reason };
}

export function openAiFileRoutes(deps: OpenAiDeps) {
  const { store, limits, clock } = deps;
  return new Hono<ClientEnv>()
    .post('/', async (c) => {
      if (!(c.req.header('content-type') ?? '').startsWith('multipart/form-data')) {
        return openAiError(c, 400, 'invalid_request', 'invalid_request', 'send multipart/form-data with fields "file" and "purpose"', 'file');
      }
      // A multipart body that does not parse (no boundary, truncated parts) is the client's error, not a 500.
      const form = await c.req.parseBody().catch(() => null);
      if (!form) return openAiError(c, 400, 'invalid_request', 'invalid_request', 'malformed multipart/form-data body', 'file');
      const purpose = form.purpose;
      if (purpose !== 'batch') {
        return openAiError(c, 400, 'invalid_request', 'invalid_purpose', `purpose must be "batch" (got ${JSON.stringify(purpose ?? null)})`, 'purpose');
      }
      const file = form.file;
      if (!(file instanceof File)) return openAiError(c, 400, 'invalid_request', 'missing_required_parameter', 'field "file" must be a file', 'file');
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(await file.arrayBuffer());
      } catch {
        return openAiError(c, 400, 'invalid_request', 'invalid_file', 'the file is not UTF-8 text', 'file');
      }
      // Lines are checked when a batch is created, as OpenAI does: a bad line fails that batch with
      // errors.data[].line naming it, and the upload itself only needs to be UTF-8 text.
      const expiry = expiresAfter(form);
      if (!expiry.ok) return openAiError(c, 400, 'invalid_request', 'invalid_request', `${expiry.field}: ${expiry.reason}`, expiry.field);
      const row = await store.createFile({
        id: newFileId(),
        tenantId: c.get('tenantId'),
        filename: file.name || 'input.jsonl',
        content: text,
        expiresAt: clock() + expiry.seconds * 1000,
      });
      return c.json(fileView(row));
    })

    .get('/', async (c) => {
      const query = listQuery(c, limits);
      if (query instanceof Response) return query;
      const page = await store.listFiles(c.get('tenantId'), query);
      return c.json(listPage(page.rows.map(fileView), page.hasMore));
    })

    .get('/:id', async (c) => {
      const row = await store.getFile(c.get('tenantId'), c.req.param('id'));
      return row ? c.json(fileView(row)) : openAiNotFound(c, 'file', c.req.param('id'));
    })

    .delete('/:id', async (c) => {
      const id = c.req.param('id');
      if (!(await store.deleteFile(c.get('tenantId'), id))) return openAiNotFound(c, 'file', id);
      const deleted: OpenAiFileDeleted = { id, object: 'file', deleted: true };
      return c.json(deleted);
    })

    .get('/:id/content', async (c) => {
      const row = await store.getFile(c.get('tenantId'), c.req.param('id'));
      if (!row) return openAiNotFound(c, 'file', c.req.param('id'));
      if (!row.sourceJobId || !row.sourceKind) return c.body(await store.readFileContent(row.id), 200, { 'Content-Type': JSONL });
      const batch = await store.getBatchByJob(row.sourceJobId);
      const job = await store.getJob(row.tenantId, row.sourceJobId);
      if (!batch || !job) return openAiNotFound(c, 'file', row.id);
      const lines = renderBatchFile(deps, batch, job, row.sourceKind);
      const encoder = new TextEncoder();
      const stream = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const next = await lines.next();
          if (next.done) controller.close();
          else controller.enqueue(encoder.encode(next.value));
        },
      });
      return c.body(stream, 200, { 'Content-Type': JSONL });
    });
}

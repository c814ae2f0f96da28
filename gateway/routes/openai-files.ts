// OpenAI-compatible files under /v1/files: upload a JSONL batch input (multipart, purpose batch),
// read a file's object or content, list files. Output and error files are rendered from their job.
import { Hono } from 'hono';
import type { FileRow } from '../../db/openai-schema.js';
import type { OpenAiFile } from '../../protocol/openai-objects.js';
import { parseJsonl } from '../../protocol/openai-requests.js';
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
    expires_at: null,
    status_details: null,
  };
}

const JSONL = 'application/jsonl; charset=utf-8';

export function openAiFileRoutes(deps: OpenAiDeps) {
  const { store, limits } = deps;
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
      // Only the JSONL framing is checked here; each line's request is checked when a batch is created.
      const { lines, errors } = parseJsonl(text);
      const notObject = lines.find((l) => typeof l.json !== 'object' || l.json === null || Array.isArray(l.json));
      const bad = errors[0] ?? (notObject ? { line: notObject.line, message: 'line is not a JSON object' } : null);
      if (bad) return openAiError(c, 400, 'invalid_request', 'invalid_jsonl', `line ${bad.line}: ${bad.message}`, 'file');
      if (lines.length > limits.maxRequestsPerJob) {
        return openAiError(
          c,
          413,
          'payload_too_large',
          'too_many_requests',
          `${lines.length} lines exceed the limit of ${limits.maxRequestsPerJob} per batch`,
          'file',
        );
      }
      const row = await store.createFile({ id: newFileId(), tenantId: c.get('tenantId'), filename: file.name || 'input.jsonl', content: text });
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

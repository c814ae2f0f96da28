// The life of an OpenAI batch on top of a job: validate the input file into one job (idempotent, so
// a retry never submits twice), follow the job's status, expire it, and finalize its output files.
import type { Job } from '../../protocol/index.js';
import type { BatchRow, BatchStatus } from '../../db/openai-schema.js';
import type { GeneratedFile, NewBatch } from '../../db/store-openai.js';
import type { OpenAiBatchEndpoint, OpenAiBatchError } from '../../protocol/openai-objects.js';
import { OPENAI_TERMINAL_STATUSES } from '../../protocol/openai-objects.js';
import { convertBatchLine, PROMPT_FIELD, parseJsonl } from '../../protocol/openai-requests.js';
import { batchResultLine, type BatchLineContext, fileKindOf } from '../../protocol/openai-results.js';
import { validateJob } from '../validate-job.js';
import type { OpenAiDeps } from './openai-common.js';

/** Validation errors kept on a failed batch (the rest are counted in the last one). */
const MAX_ERRORS = 100;
/** A batch still `validating` after this long lost its validator (a crash): the next read redoes it. */
const STALE_VALIDATION_MS = 60_000;
const RESULT_PAGE = 500;

const isTerminal = (status: BatchStatus) => OPENAI_TERMINAL_STATUSES.includes(status);

function capped(errors: OpenAiBatchError[]): OpenAiBatchError[] {
  if (errors.length <= MAX_ERRORS) return errors;
  const more = { code: 'too_many_errors', message: `${errors.length - MAX_ERRORS + 1} more errors not listed`, param: null, line: null };
  return [...errors.slice(0, MAX_ERRORS - 1), more];
}

/** Maps a validate-job field (`requests[3].params.top_p`) to the input line and the body param. */
function lineError(field: string, reason: string, lineOf: number[], promptParam: string): OpenAiBatchError {
  const m = /^requests\[(\d+)\](?:\.(.*))?$/.exec(field);
  if (!m)
    return {
      code: 'invalid_request',
      message: `${field}: ${reason}`,
      param: field === 'model' ? 'body.model' : field,
      line: field === 'model' ? lineOf[0] : null,
    };
  const rest = m[2] ?? '';
  const param = rest.startsWith('params.') ? `body.${rest.slice(7)}` : rest === 'prompt' ? promptParam : rest || null;
  const code = rest === 'custom_id' && reason.startsWith('duplicate') ? 'duplicate_custom_id' : 'invalid_request';
  return { code, message: `${param ?? 'line'}: ${reason}`, param, line: lineOf[Number(m[1])] };
}

/** Parses, converts and checks every line; submits the job or fails the batch with line errors. */
async function validateAndSubmit(deps: OpenAiDeps, row: BatchRow): Promise<BatchRow> {
  const { store, models, limits, clock } = deps;
  const endpoint = row.endpoint as OpenAiBatchEndpoint;
  const fail = async (errors: OpenAiBatchError[]) =>
    (await store.updateBatch(row.id, ['validating'], { status: 'failed', failedAt: clock(), errorsJson: JSON.stringify(capped(errors)) })) ??
    ((await store.getBatch(row.tenantId, row.id)) as BatchRow);

  const parsed = parseJsonl(await store.readFileContent(row.inputFileId));
  const errors = [...parsed.errors];
  if (parsed.lines.length === 0 && errors.length === 0)
    errors.push({ code: 'empty_file', message: 'the input file has no requests', param: 'input_file_id', line: null });
  if (parsed.lines.length > limits.maxRequestsPerJob) {
    errors.push({
      code: 'too_many_requests',
      message: `${parsed.lines.length} requests exceed the limit of ${limits.maxRequestsPerJob} per batch`,
      param: 'input_file_id',
      line: null,
    });
  }
  const requests = [];
  const lineOf: number[] = [];
  let model: string | null = null;
  for (const { line, json } of parsed.lines) {
    const out = convertBatchLine(json, line, endpoint);
    if (!out.ok) {
      errors.push(...out.errors);
      continue;
    }
    model ??= out.value.model;
    if (out.value.model !== model) {
      errors.push({
        code: 'mismatched_model',
        message: `body.model "${out.value.model}" differs from "${model}": one model per batch`,
        param: 'body.model',
        line,
      });
    }
    requests.push(out.value.request);
    lineOf.push(line);
  }
  if (errors.length > 0) return fail(errors);

  const checked = validateJob({ model, requests }, models, limits, deps.fleet);
  const promptParam = `body.${PROMPT_FIELD[endpoint]}`;
  if (!checked.ok) return fail(checked.issues.map((i) => lineError(i.field, i.reason, lineOf, promptParam)));

  const outcome = await store.submit({
    tenantId: row.tenantId,
    ...checked.job,
    metadata: { openai_batch_id: row.id },
    idempotencyKey: `openai-batch:${row.id}`,
    bodyHash: 'openai-batch',
  });
  if (outcome.kind === 'conflict') throw new Error(`batch ${row.id}: its idempotency key names another job`);
  if (outcome.kind === 'created') deps.wakeRunners?.();
  const now = clock();
  const moved = await store.updateBatch(row.id, ['validating'], {
    status: 'in_progress',
    jobId: outcome.job.id,
    model: checked.job.model,
    numRequests: requests.length,
    inProgressAt: now,
  });
  if (moved) return moved;
  // Cancelled while validating: the job just submitted must not run.
  const current = (await store.getBatch(row.tenantId, row.id)) as BatchRow;
  if (current.status === 'cancelled' || current.status === 'cancelling') await store.cancel(row.tenantId, outcome.job.id);
  return current;
}

/** Creates the batch row and validates it; the answer is the batch after validation. */
export async function createBatch(deps: OpenAiDeps, row: NewBatch): Promise<BatchRow> {
  return validateAndSubmit(deps, await deps.store.insertBatch(row));
}

/** The status a running batch shows for its job. */
function liveStatus(row: BatchRow, job: Job): BatchStatus {
  return job.status === 'canceling' && !row.expiring ? 'cancelling' : 'in_progress';
}

/** Brings a batch up to date with its job: expiry, live status, finalization. Idempotent. */
export async function refreshBatch(deps: OpenAiDeps, row: BatchRow): Promise<{ row: BatchRow; job: Job | null }> {
  const { store, clock } = deps;
  if (row.status === 'validating') {
    if (clock() - row.updatedAt < STALE_VALIDATION_MS) return { row, job: null };
    row = await validateAndSubmit(deps, row);
  }
  const job = row.jobId ? await store.getJob(row.tenantId, row.jobId) : null;
  if (!job || isTerminal(row.status)) return { row, job };
  if (job.status === 'queued' || job.status === 'running' || job.status === 'canceling') {
    if (clock() >= row.expiresAt && !row.expiring) {
      await store.cancel(row.tenantId, job.id);
      row = (await store.updateBatch(row.id, ['in_progress', 'cancelling'], { expiring: true })) ?? row;
      return refreshBatch(deps, row);
    }
    const status = liveStatus(row, job);
    if (status !== row.status) row = (await store.updateBatch(row.id, [row.status], { status })) ?? row;
    return { row, job };
  }
  return { row: await finalize(deps, row, job), job };
}

/** The context every rendered line of this batch shares (stable, so renders are byte-identical). */
function lineContext(row: BatchRow, job: Job): Omit<BatchLineContext, 'idx' | 'params'> {
  const started = job.started_at ? Date.parse(job.started_at) : row.createdAt;
  return {
    batchId: row.id,
    endpoint: row.endpoint as OpenAiBatchEndpoint,
    model: row.model ?? job.model,
    created: Math.floor(started / 1000),
    expired: row.expiring,
  };
}

/** Renders a batch's output or error file as JSONL lines, page by page. */
export async function* renderBatchFile(deps: OpenAiDeps, row: BatchRow, job: Job, kind: 'output' | 'error'): AsyncGenerator<string> {
  const ctx = lineContext(row, job);
  for (let after = -1; ; ) {
    const page = await deps.store.listBatchResults(job.id, after, RESULT_PAGE);
    for (const r of page) {
      if (fileKindOf(r.result) === kind) yield `${JSON.stringify(batchResultLine(r.result, { ...ctx, idx: r.idx, params: r.params }))}\n`;
    }
    if (page.length < RESULT_PAGE) return;
    after = page[page.length - 1].idx;
  }
}

async function renderedBytes(deps: OpenAiDeps, row: BatchRow, job: Job, kind: 'output' | 'error'): Promise<number> {
  const encoder = new TextEncoder();
  let bytes = 0;
  for await (const line of renderBatchFile(deps, row, job, kind)) bytes += encoder.encode(line).length;
  return bytes;
}

/** The job finished: measure the output and error files, register them, and move to the final state. */
async function finalize(deps: OpenAiDeps, row: BatchRow, job: Job): Promise<BatchRow> {
  const { store, clock } = deps;
  const now = clock();
  const finalizing = await store.updateBatch(row.id, ['in_progress', 'cancelling', 'finalizing'], {
    status: 'finalizing',
    finalizingAt: row.finalizingAt ?? now,
  });
  if (!finalizing) return (await store.getBatch(row.tenantId, row.id)) as BatchRow;
  const hex = row.id.replace(/^batch_/, '');
  const generated: GeneratedFile[] = [];
  for (const kind of ['output', 'error'] as const) {
    const bytes = await renderedBytes(deps, finalizing, job, kind);
    if (bytes > 0)
      generated.push({
        id: `file-${hex}-${kind}`,
        tenantId: row.tenantId,
        filename: `${row.id}_${kind}.jsonl`,
        bytes,
        sourceJobId: job.id,
        sourceKind: kind,
        // output_expires_after: anchored at the file's creation (now), as OpenAI anchors it.
        expiresAt: row.outputExpiresAfterSeconds === null ? null : now + row.outputExpiresAfterSeconds * 1000,
      });
  }
  const status: BatchStatus = job.status === 'canceled' ? (row.expiring ? 'expired' : 'cancelled') : 'completed';
  const jobErrors: OpenAiBatchError[] = job.error ? [{ code: job.error.code, message: job.error.message, param: null, line: null }] : [];
  const final = await store.finalizeBatch(row.id, ['finalizing'], generated, {
    status,
    completedAt: status === 'completed' ? now : null,
    expiredAt: status === 'expired' ? now : null,
    cancelledAt: status === 'cancelled' ? now : null,
    outputFileId: generated.find((f) => f.sourceKind === 'output')?.id ?? null,
    errorFileId: generated.find((f) => f.sourceKind === 'error')?.id ?? null,
    errorsJson: jobErrors.length > 0 ? JSON.stringify(jobErrors) : row.errorsJson,
  });
  return final ?? ((await store.getBatch(row.tenantId, row.id)) as BatchRow);
}

/** Cancels a batch: before its job exists it is cancelled at once; otherwise its job is canceled. */
export async function cancelBatch(deps: OpenAiDeps, row: BatchRow): Promise<{ row: BatchRow; job: Job | null }> {
  const { store, clock } = deps;
  const now = clock();
  if (row.status === 'validating') {
    const done = await store.updateBatch(row.id, ['validating'], { status: 'cancelled', cancellingAt: now, cancelledAt: now });
    if (done) return { row: done, job: null };
    row = (await store.getBatch(row.tenantId, row.id)) as BatchRow;
  }
  if (row.status === 'in_progress' && row.jobId) {
    await store.cancel(row.tenantId, row.jobId);
    row = (await store.updateBatch(row.id, ['in_progress'], { status: 'cancelling', cancellingAt: now })) ?? row;
  }
  return refreshBatch(deps, row);
}

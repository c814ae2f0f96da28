// The job store's case suite, one list run against every driver (better-sqlite3, node:sqlite, D1,
// PostgreSQL): plain async functions on node:assert so that vitest and Deno run the same cases.
import assert from 'node:assert/strict';
import { createJobStore, type JobStore, type NewJob } from '../../db/job-store.js';
import type { SqlDb } from '../../db/sql-db.js';
import type { StoreConfig } from '../../db/store-config.js';
import { FILE_CHUNK_CHARS } from '../../db/store-openai.js';
import { type CompressionMethod, methodsServedBy, type RequestResultWrite, type RunnerUsage, SYSTEM_DEFAULTS } from '../../protocol/index.js';

/** A store on an empty database of the driver under test, with a clock the case moves. */
export type CaseContext = { store: JobStore; advance(ms: number): void; now(): number };
/** A case; `config` overrides CASE_STORE_CONFIG for it. */
export type StoreCase = { name: string; config?: Partial<StoreConfig>; run(ctx: CaseContext): Promise<void> };

/** Gives a handle on an empty, migrated database (a new one, or the same one emptied). */
export type FreshDb = () => Promise<SqlDb>;

export const CASE_STORE_CONFIG: Partial<StoreConfig> = { leaseMs: 10_000, maxAttempts: 3, backoffBaseMs: 1_000, backoffMaxMs: 3_000, pricePerRunnerHour: 3.6 };

export async function caseContext(fresh: FreshDb, config: Partial<StoreConfig> = {}): Promise<CaseContext> {
  let now = Date.parse('2026-01-01T00:00:00Z');
  const store = createJobStore(await fresh(), { ...CASE_STORE_CONFIG, ...config, clock: () => now });
  await store.ensureTenant('acme');
  await store.ensureTenant('globex');
  const advance = (ms: number) => {
    now += ms;
  };
  return { store, advance, now: () => now };
}

export function newJob(n: number, extra: Partial<NewJob> = {}): NewJob {
  return {
    tenantId: 'acme',
    model: 'reasoner',
    defaults: null,
    metadata: null,
    idempotencyKey: null,
    bodyHash: null,
    requests: Array.from({ length: n }, (_, i) => ({ customId: `r${i}`, prompt: `Q:${i}+1=`, params: SYSTEM_DEFAULTS, expectedAnswer: null })),
    ...extra,
  };
}

/** A result as a runner that predates kv_tokens_retained and the compression labels writes it (`labels` adds them). */
export function result(customId: string, runnerSeconds = 2, answer = '42', labels: Partial<RunnerUsage> = {}): RequestResultWrite {
  return {
    custom_id: customId,
    status: 'succeeded',
    answer,
    threads: [{ text: `A:${answer}`, answer, finish_reason: 'stop', completion_tokens: 10 }],
    usage: {
      prompt_tokens: 7,
      completion_tokens: 10,
      kv_token_reads: 1000.5,
      kv_token_reads_per_head: 125,
      prefill_kv_token_reads: 49,
      peak_kv_tokens: 160,
      peak_kv_tokens_per_head: 20,
      peak_kv_bytes: 40960,
      achieved_ratio: 3.25,
      runner_seconds: runnerSeconds,
      ...labels,
    },
    timings: { ttft_ms: 5, prefill_ms: 4, decode_ms: 90, total_ms: 100 },
    backend: 'wasm',
    error: null,
  };
}

async function created(store: JobStore, job: NewJob): Promise<string> {
  const out = await store.submit(job);
  assert.equal(out.kind, 'created');
  return out.kind === 'created' ? out.job.id : '';
}

async function claimed(store: JobStore, runnerId = 'gpu-1') {
  const claim = await store.claim({ runnerId, backend: 'wasm' });
  assert.ok(claim, 'expected a job to claim');
  return { id: claim.job.id, token: claim.lease.lease_token, claim };
}

export const STORE_CASES: StoreCase[] = [
  {
    name: 'keys: created keys resolve to their tenant, operator keys are idempotent, unknown keys resolve to nothing',
    async run({ store }) {
      await store.ensureTenant('acme');
      const key = await store.createApiKey('acme', 'ci');
      assert.equal(await store.tenantForKey(key), 'acme');
      await store.addApiKey('globex', 'operator-key');
      await store.addApiKey('globex', 'operator-key');
      assert.equal(await store.tenantForKey('operator-key'), 'globex');
      assert.equal(await store.tenantForKey('nope'), null);
      assert.equal(await store.countApiKeys(), 2);
      await store.ping();
    },
  },
  {
    name: 'submit and read: counts queued, tenants isolated, list newest first with a cursor',
    async run({ store, advance }) {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push(await created(store, newJob(i + 1, { metadata: { n: String(i) }, defaults: { max_tokens: 9 } })));
        advance(1);
      }
      const job = await store.getJob('acme', ids[2]);
      assert.deepEqual(job?.request_counts, { total: 3, queued: 3, running: 0, succeeded: 0, failed: 0, canceled: 0 });
      assert.deepEqual(job?.metadata, { n: '2' });
      assert.deepEqual(job?.defaults, { max_tokens: 9 });
      assert.equal(job?.status, 'queued');
      assert.equal(await store.getJob('globex', ids[2]), null);
      const first = await store.listJobs('acme', { limit: 2 });
      assert.deepEqual(
        first.jobs.map((j) => j.id),
        [ids[4], ids[3]],
      );
      assert.equal(first.hasMore, true);
      const rest = await store.listJobs('acme', { limit: 10, after: ids[3] });
      assert.deepEqual(
        rest.jobs.map((j) => j.id),
        [ids[2], ids[1], ids[0]],
      );
      assert.equal(rest.hasMore, false);
      assert.deepEqual((await store.listJobs('globex', { limit: 10 })).jobs, []);
    },
  },
  {
    name: 'idempotency: the same key and body replays, another body conflicts, concurrent submissions create one job',
    async run({ store }) {
      const job = newJob(2, { idempotencyKey: 'k1', bodyHash: 'h1' });
      const id = await created(store, job);
      assert.deepEqual(await store.submit(job).then((o) => [o.kind, o.kind === 'replayed' && o.job.id]), ['replayed', id]);
      assert.deepEqual(await store.submit({ ...job, bodyHash: 'h2' }), { kind: 'conflict', jobId: id });
      // Another tenant may use the same key.
      assert.equal((await store.submit({ ...job, tenantId: 'globex' })).kind, 'created');
      const race = await Promise.all(Array.from({ length: 6 }, () => store.submit(newJob(1, { idempotencyKey: 'k2', bodyHash: 'h' }))));
      assert.equal(race.filter((o) => o.kind === 'created').length, 1);
      assert.equal(race.filter((o) => o.kind === 'replayed').length, 5);
      assert.equal(new Set(race.map((o) => (o.kind === 'conflict' ? o.jobId : o.job.id))).size, 1);
      assert.equal((await store.listJobs('acme', { limit: 10 })).jobs.length, 2);
    },
  },
  {
    name: 'claim: oldest first, with its pending requests in order, a lease, the model filter, null when empty',
    async run({ store, now, advance }) {
      const a = await created(store, newJob(3));
      advance(1);
      const b = await created(store, newJob(1, { model: 'tiny' }));
      assert.equal(await store.claim({ runnerId: 'gpu-1', models: ['other'] }), null);
      const tiny = await store.claim({ runnerId: 'gpu-1', models: ['tiny'] });
      assert.equal(tiny?.job.id, b);
      const { claim } = await claimed(store);
      assert.equal(claim.job.id, a);
      assert.deepEqual(
        claim.requests.map((r) => r.custom_id),
        ['r0', 'r1', 'r2'],
      );
      assert.deepEqual(claim.requests[1].params, SYSTEM_DEFAULTS);
      assert.equal(claim.lease.attempt, 1);
      assert.equal(claim.lease.expires_at, new Date(now() + 10_000).toISOString());
      assert.equal(await store.claim({ runnerId: 'gpu-2' }), null);
      const view = await store.getJob('acme', a);
      assert.equal(view?.status, 'running');
      assert.equal(view?.request_counts.running, 3);
      const seen = await store.recentRunners(60_000);
      assert.deepEqual(seen.map((r) => [r.runner_id, r.backend]).sort(), [
        ['gpu-1', 'wasm'],
        ['gpu-2', null],
      ]);
    },
  },
  {
    name: "routing: a claim with methods takes only jobs whose every request's method it serves; one without takes any",
    async run({ store, advance }) {
      const withMethods = (...methods: CompressionMethod[]) => {
        const job = newJob(methods.length);
        job.requests = job.requests.map((r, i) => ({
          ...r,
          params: { ...SYSTEM_DEFAULTS, compression: { method: methods[i], ratio: methods[i] === 'none' ? 1 : 2 } },
        }));
        return job;
      };
      const mixed = await created(store, withMethods('none', 'tova'));
      advance(1);
      const gpuOk = await created(store, withMethods('dms', 'window', 'none'));
      advance(1);
      const plain = await created(store, newJob(2));
      advance(1);
      const webgpu = { runnerId: 'gpu-webgpu', backend: 'webgpu', methods: methodsServedBy('webgpu') };
      assert.equal((await store.claim(webgpu))?.job.id, gpuOk, 'the oldest job has tova: a webgpu runner passes over it');
      assert.equal(await store.claim({ ...webgpu, models: ['tiny'] }), null);
      assert.equal((await store.claim(webgpu))?.job.id, plain);
      assert.equal(await store.claim(webgpu), null);
      assert.equal(await store.claim({ runnerId: 'none-only', methods: ['none'] }), null);
      const wasm = await store.claim({ runnerId: 'gpu-wasm', backend: 'wasm', methods: methodsServedBy('wasm') });
      assert.equal(wasm?.job.id, mixed);
      // Released, the job keeps what it needs; a runner that sends no methods (an older one) claims as before.
      assert.equal((await store.release(mixed, wasm?.lease.lease_token ?? '')).ok, true);
      assert.equal(await store.claim(webgpu), null);
      const quest = await created(store, withMethods('quest'));
      assert.equal((await store.claim({ runnerId: 'old' }))?.job.id, mixed);
      assert.equal((await store.claim({ runnerId: 'old' }))?.job.id, quest);
    },
  },
  {
    name: 'concurrent claims: every claimer gets a different job while jobs remain, none comes back empty',
    async run({ store }) {
      const ids = new Set<string>();
      for (let i = 0; i < 12; i++) ids.add(await created(store, newJob(1)));
      const claims = await Promise.all(Array.from({ length: 12 }, (_, i) => store.claim({ runnerId: `gpu-${i}` })));
      assert.equal(claims.filter((c) => c === null).length, 0);
      assert.deepEqual(new Set(claims.map((c) => c?.job.id)), ids);
      assert.equal(await store.claim({ runnerId: 'late' }), null);
    },
  },
  {
    name: 'heartbeat: extends the lease, reports a cancel request, and refuses a wrong or expired token',
    async run({ store, advance }) {
      const jobId = await created(store, newJob(1));
      const { id, token } = await claimed(store);
      advance(8_000);
      const beat = await store.heartbeat(id, token);
      assert.ok(beat.ok);
      assert.equal(beat.ok && beat.value.cancel_requested, false);
      advance(8_000); // past the first expiry, within the extended one
      assert.ok((await store.heartbeat(id, token)).ok);
      assert.deepEqual(await store.heartbeat(id, 'lease_wrong'), { ok: false, reason: 'stale_lease' });
      await store.cancel('acme', jobId);
      const canceled = await store.heartbeat(id, token);
      assert.equal(canceled.ok && canceled.value.cancel_requested, true);
      advance(10_001);
      assert.deepEqual(await store.heartbeat(id, token), { ok: false, reason: 'stale_lease' });
    },
  },
  {
    name: 'results: written once per custom_id (the first kept), unknown ids refused, usage totals and cost',
    async run({ store }) {
      await created(store, newJob(3));
      const { id, token } = await claimed(store);
      const first = await store.writeResults(id, token, [result('r0', 2, 'first'), result('r1', 4)]);
      assert.deepEqual(first, { ok: true, written: ['r0', 'r1'], alreadyWritten: [] });
      const again = await store.writeResults(id, token, [result('r0', 2, 'second')]);
      assert.deepEqual(again, { ok: true, written: [], alreadyWritten: ['r0'] });
      assert.deepEqual(await store.writeResults(id, token, [result('r9')]), { ok: false, reason: 'unknown_custom_id', customIds: ['r9'] });
      assert.deepEqual(await store.writeResults(id, 'lease_wrong', [result('r2')]), { ok: false, reason: 'stale_lease' });
      const job = await store.getJob('acme', id);
      assert.deepEqual(job?.request_counts, { total: 3, queued: 0, running: 1, succeeded: 2, failed: 0, canceled: 0 });
      assert.deepEqual(job?.usage, {
        num_results: 2,
        prompt_tokens: 14,
        completion_tokens: 20,
        kv_token_reads: 2001,
        kv_token_reads_per_head: 250,
        prefill_kv_token_reads: 98,
        peak_kv_tokens: 160,
        peak_kv_tokens_per_head: 20,
        peak_kv_bytes: 40960,
        achieved_ratio: 3.25,
        runner_seconds: 6,
        cost: 0.006, // 3.6 USD per runner-hour is 0.001 per second
        kv_tokens_retained: 0, // not reported: achieved_ratio is the plain mean
        method: null,
        requested_ratio: null,
        window: null,
        num_graded: 0,
        num_correct: 0,
        accuracy: null,
        by_compression: null,
      });
      const lines = await store.listResults('acme', id, -1, 10);
      assert.deepEqual(
        lines?.map((l) => [l.idx, l.result.custom_id, l.result.answer]),
        [
          [0, 'r0', 'first'],
          [1, 'r1', '42'],
        ],
      );
      assert.deepEqual(lines?.[0].result.timings, { ttft_ms: 5, prefill_ms: 4, decode_ms: 90, total_ms: 100 });
      assert.deepEqual(
        (await store.listResults('acme', id, 0, 10))?.map((l) => l.idx),
        [1],
      );
      assert.equal(await store.listResults('globex', id, -1, 10), null);
    },
  },
  {
    name: 'complete and fail: requests left pending are failed with the reason; the lease is gone afterwards',
    async run({ store }) {
      await created(store, newJob(2));
      const a = await claimed(store);
      await store.writeResults(a.id, a.token, [result('r0')]);
      assert.deepEqual(await store.complete(a.id, a.token), { ok: true, value: 'completed' });
      assert.deepEqual(await store.complete(a.id, a.token), { ok: false, reason: 'stale_lease' });
      const done = await store.listResults('acme', a.id, -1, 10);
      assert.equal(done?.[1].result.error?.code, 'not_executed');
      const doneJob = await store.getJob('acme', a.id);
      assert.equal(doneJob?.status, 'completed');
      assert.ok(doneJob?.completed_at);

      await created(store, newJob(2));
      const b = await claimed(store);
      assert.deepEqual(await store.fail(b.id, b.token, 'out of memory'), { ok: true, value: 'failed' });
      const failed = await store.getJob('acme', b.id);
      assert.deepEqual(failed?.error, { code: 'runner_failed', message: 'out of memory' });
      assert.equal(failed?.request_counts.failed, 2);
      assert.deepEqual(await store.writeResults(b.id, b.token, [result('r0')]), { ok: false, reason: 'stale_lease' });
    },
  },
  {
    name: 'release: the job is queued again at once and the attempt is given back',
    async run({ store }) {
      await created(store, newJob(2));
      const a = await claimed(store);
      await store.writeResults(a.id, a.token, [result('r0')]);
      assert.deepEqual(await store.release(a.id, a.token), { ok: true, value: 'queued' });
      const again = await claimed(store, 'gpu-2');
      assert.equal(again.id, a.id);
      assert.equal(again.claim.lease.attempt, 1);
      assert.deepEqual(
        again.claim.requests.map((r) => r.custom_id),
        ['r1'],
      );
      assert.deepEqual(await store.writeResults(a.id, a.token, [result('r1')]), { ok: false, reason: 'stale_lease' });
    },
  },
  {
    name: 'cancel: a queued job is canceled at once, a running one after its runner stops, a finished one is terminal',
    async run({ store }) {
      const queued = await created(store, newJob(2));
      const out = await store.cancel('acme', queued);
      assert.equal(out.kind === 'ok' && out.job.status, 'canceled');
      assert.equal(out.kind === 'ok' && out.job.request_counts.canceled, 2);
      assert.deepEqual(await store.cancel('globex', queued), { kind: 'not_found' });
      assert.equal(await store.claim({ runnerId: 'gpu-1' }), null);

      await created(store, newJob(2));
      const run = await claimed(store);
      await store.writeResults(run.id, run.token, [result('r0')]);
      const canceling = await store.cancel('acme', run.id);
      assert.equal(canceling.kind === 'ok' && canceling.job.status, 'canceling');
      assert.deepEqual(await store.complete(run.id, run.token), { ok: true, value: 'canceled' });
      const after = await store.getJob('acme', run.id);
      assert.deepEqual(after?.request_counts, { total: 2, queued: 0, running: 0, succeeded: 1, failed: 0, canceled: 1 });
      assert.ok(after?.canceled_at);
      assert.equal(after?.completed_at, null);

      await created(store, newJob(1));
      const fin = await claimed(store);
      await store.complete(fin.id, fin.token);
      assert.equal((await store.cancel('acme', fin.id)).kind, 'terminal');
    },
  },
  {
    name: 'sweep: an expired lease is requeued with doubling, capped backoff, then failed after the last attempt',
    config: { maxAttempts: 4 },
    async run({ store, advance }) {
      const jobId = await created(store, newJob(2));
      let lease = await claimed(store, 'gpu-1');
      await store.writeResults(lease.id, lease.token, [result('r0')]);
      const delays: number[] = [];
      for (let attempt = 2; attempt <= 4; attempt++) {
        advance(10_000);
        assert.deepEqual(await store.sweep(), { requeued: 1, failed: 0, canceled: 0 });
        let waited = 0;
        let next = await store.claim({ runnerId: `gpu-${attempt}` });
        while (!next && waited < 10_000) {
          advance(250);
          waited += 250;
          next = await store.claim({ runnerId: `gpu-${attempt}` });
        }
        assert.ok(next);
        assert.equal(next.lease.attempt, attempt);
        delays.push(waited);
        lease = { id: next.job.id, token: next.lease.lease_token, claim: next };
      }
      assert.deepEqual(delays, [1_000, 2_000, 3_000]);
      advance(10_000);
      assert.deepEqual(await store.sweep(), { requeued: 0, failed: 1, canceled: 0 });
      assert.deepEqual(await store.writeResults(jobId, lease.token, [result('r1')]), { ok: false, reason: 'stale_lease' });
      const job = await store.getJob('acme', jobId);
      assert.equal(job?.status, 'failed');
      assert.deepEqual(job?.error, { code: 'lease_expired', message: 'lease expired on attempt 4 of 4 (runner gpu-4)' });
      assert.deepEqual(job?.request_counts, { total: 2, queued: 0, running: 0, succeeded: 1, failed: 1, canceled: 0 });
    },
  },
  {
    name: 'sweep: a canceling job whose runner vanished is canceled; a stale runner cannot write after a requeue',
    async run({ store, advance }) {
      const jobId = await created(store, newJob(2));
      const old = await claimed(store);
      await store.cancel('acme', jobId);
      advance(10_000);
      assert.deepEqual(await store.sweep(), { requeued: 0, failed: 0, canceled: 1 });
      assert.equal((await store.getJob('acme', jobId))?.request_counts.canceled, 2);
      assert.deepEqual(await store.complete(old.id, old.token), { ok: false, reason: 'stale_lease' });

      const other = await created(store, newJob(1));
      const first = await claimed(store, 'gpu-a');
      advance(10_000);
      await store.sweep();
      advance(1_000);
      const second = await claimed(store, 'gpu-b');
      assert.equal(second.id, other);
      assert.equal(second.claim.lease.attempt, 2);
      assert.deepEqual(await store.writeResults(first.id, first.token, [result('r0')]), { ok: false, reason: 'stale_lease' });
      assert.equal((await store.writeResults(second.id, second.token, [result('r0')])).ok, true);
      assert.deepEqual(await store.complete(second.id, second.token), { ok: true, value: 'completed' });
      const job = await store.getJob('acme', other);
      assert.equal(job?.usage?.num_results, 1);
    },
  },
  {
    name: 'a 1,000-request job is stored, claimed and written within every driver statement limit',
    async run({ store }) {
      const id = await created(store, newJob(1000));
      const c = await claimed(store);
      assert.equal(c.id, id);
      assert.equal(c.claim.requests.length, 1000);
      const write = await store.writeResults(
        id,
        c.token,
        Array.from({ length: 300 }, (_, i) => result(`r${i}`)),
      );
      assert.equal(write.ok && write.written.length, 300);
      const job = await store.getJob('acme', id);
      assert.deepEqual(job?.request_counts, { total: 1000, queued: 0, running: 700, succeeded: 300, failed: 0, canceled: 0 });
      assert.equal((await store.listResults('acme', id, -1, 1000))?.length, 300);
    },
  },
  {
    name: 'files: multi-chunk UTF-8 content round-trips; lists filter by purpose and page both ways',
    async run({ store, advance }) {
      const content = `${'é'.repeat(FILE_CHUNK_CHARS)}\n${'x'.repeat(10)}你好`;
      const file = await store.createFile({ id: 'file-a', tenantId: 'acme', filename: 'in.jsonl', content, expiresAt: null });
      assert.equal(file.numChunks, 2);
      assert.equal(file.bytes, new TextEncoder().encode(content).length);
      assert.equal(await store.readFileContent('file-a'), content);
      advance(1);
      await store.createFile({ id: 'file-b', tenantId: 'acme', filename: 'b.jsonl', content: '{}', expiresAt: null });
      assert.equal(await store.getFile('globex', 'file-a'), null);
      const desc = await store.listFiles('acme', { limit: 1 });
      assert.deepEqual(
        desc.rows.map((f) => f.id),
        ['file-b'],
      );
      assert.equal(desc.hasMore, true);
      const asc = await store.listFiles('acme', { limit: 5, order: 'asc', after: 'file-a' });
      assert.deepEqual(
        asc.rows.map((f) => f.id),
        ['file-b'],
      );
      assert.deepEqual((await store.listFiles('acme', { limit: 5, purpose: 'batch_output' })).rows, []);
    },
  },
  {
    name: 'batches: conditional status moves, finalize registers generated files once, results carry params',
    async run({ store, now }) {
      await store.createFile({ id: 'file-in', tenantId: 'acme', filename: 'in.jsonl', content: '{}', expiresAt: null });
      const jobId = await created(store, newJob(2));
      const batch = await store.insertBatch({
        id: 'batch-1',
        tenantId: 'acme',
        endpoint: '/v1/chat/completions',
        inputFileId: 'file-in',
        completionWindow: '24h',
        status: 'validating',
        jobId: null,
        model: null,
        numRequests: 0,
        errorsJson: null,
        metadataJson: null,
        outputExpiresAfterSeconds: 3600,
        expiring: false,
        outputFileId: null,
        errorFileId: null,
        createdAt: now(),
        inProgressAt: null,
        expiresAt: now() + 86_400_000,
        finalizingAt: null,
        completedAt: null,
        failedAt: null,
        expiredAt: null,
        cancellingAt: null,
        cancelledAt: null,
      });
      assert.equal(batch.expiring, false);
      assert.equal(batch.outputExpiresAfterSeconds, 3600);
      const moved = await store.updateBatch('batch-1', ['validating'], { status: 'in_progress', jobId, numRequests: 2, inProgressAt: now() });
      assert.equal(moved?.status, 'in_progress');
      assert.equal(await store.updateBatch('batch-1', ['validating'], { status: 'failed' }), null);
      assert.equal((await store.getBatchByJob(jobId))?.id, 'batch-1');
      const c = await claimed(store);
      await store.writeResults(c.id, c.token, [result('r1')]);
      const rows = await store.listBatchResults(jobId, -1, 10);
      assert.deepEqual(
        rows.map((r) => [r.idx, r.result.custom_id]),
        [[1, 'r1']],
      );
      assert.deepEqual(rows[0].params, SYSTEM_DEFAULTS);
      const generated = [
        { id: 'file-out', tenantId: 'acme', filename: 'out.jsonl', bytes: 10, sourceJobId: jobId, sourceKind: 'output' as const, expiresAt: now() + 3_600_000 },
      ];
      const fin = await store.finalizeBatch('batch-1', ['in_progress'], generated, { status: 'completed', outputFileId: 'file-out', completedAt: now() });
      assert.equal(fin?.status, 'completed');
      assert.equal(await store.finalizeBatch('batch-1', ['in_progress'], generated, { status: 'completed' }), null);
      const out = await store.getFile('acme', 'file-out');
      assert.deepEqual([out?.purpose, out?.sourceKind, out?.numChunks, out?.expiresAt], ['batch_output', 'output', 0, now() + 3_600_000]);
      assert.deepEqual(
        (await store.listBatches('acme', { limit: 5 })).rows.map((b) => b.id),
        ['batch-1'],
      );
      assert.equal(await store.getBatch('globex', 'batch-1'), null);
    },
  },
  {
    name: 'graded results: accuracy, the token-weighted achieved ratio and the labels per job, with a breakdown per compression when mixed',
    async run({ store }) {
      const expected = ['6', '5', '6', null];
      const job = newJob(4);
      job.requests = job.requests.map((r, i) => ({ ...r, expectedAnswer: expected[i] }));
      await created(store, job);
      const { id, token } = await claimed(store);
      const dms = { method: 'dms', requested_ratio: 4, window: 16 };
      const write = await store.writeResults(id, token, [
        result('r0', 2, '6', { ...dms, achieved_ratio: 3, kv_tokens_retained: 300 }),
        result('r1', 2, '6', { ...dms, achieved_ratio: 5, kv_tokens_retained: 100 }),
        result('r2', 2, '2', { method: 'none', requested_ratio: 1, window: null, achieved_ratio: 1, kv_tokens_retained: 400 }),
        result('r3', 2, '1', { ...dms, achieved_ratio: 2, kv_tokens_retained: 200 }),
      ]);
      assert.equal(write.ok && write.written.length, 4);
      const lines = await store.listResults('acme', id, -1, 10);
      assert.deepEqual(
        lines?.map((l) => [l.result.custom_id, l.result.expected_answer, l.result.correct]),
        [
          ['r0', '6', true],
          ['r1', '5', false],
          ['r2', '6', false],
          ['r3', null, null],
        ],
      );
      assert.deepEqual(
        [
          lines?.[0].result.usage?.method,
          lines?.[0].result.usage?.requested_ratio,
          lines?.[0].result.usage?.window,
          lines?.[0].result.usage?.kv_tokens_retained,
        ],
        ['dms', 4, 16, 300],
      );
      assert.equal(lines?.[2].result.usage?.window, null);
      const usage = (await store.getJob('acme', id))?.usage;
      assert.ok(usage);
      // Tokens seen / tokens retained over the job: (3 x 300 + 5 x 100 + 1 x 400 + 2 x 200) / 1000.
      assert.ok(Math.abs(usage.achieved_ratio - 2.2) < 1e-12, String(usage.achieved_ratio));
      assert.deepEqual(
        [usage.num_results, usage.kv_tokens_retained, usage.method, usage.requested_ratio, usage.window, usage.num_graded, usage.num_correct],
        [4, 1000, null, null, null, 3, 1],
      );
      assert.ok(Math.abs((usage.accuracy ?? 0) - 1 / 3) < 1e-12);
      const groups = Object.fromEntries((usage.by_compression ?? []).map((g) => [g.method, g]));
      assert.deepEqual(Object.keys(groups).sort(), ['dms', 'none']);
      assert.deepEqual(
        [groups.dms.requested_ratio, groups.dms.window, groups.dms.num_results, groups.dms.num_graded, groups.dms.num_correct, groups.dms.accuracy],
        [4, 16, 3, 2, 1, 0.5],
      );
      assert.ok(Math.abs(groups.dms.achieved_ratio - 1800 / 600) < 1e-12);
      assert.deepEqual(
        [groups.none.requested_ratio, groups.none.window, groups.none.achieved_ratio, groups.none.accuracy, groups.none.prompt_tokens],
        [1, null, 1, 0, 7],
      );
    },
  },
  {
    name: 'file expiry: an expired file is hidden at once, the purge drops its content once, a deleted file keeps its row',
    async run({ store, now, advance }) {
      await store.createFile({ id: 'file-old', tenantId: 'acme', filename: 'old.jsonl', content: 'x'.repeat(FILE_CHUNK_CHARS + 5), expiresAt: now() + 60_000 });
      await store.createFile({ id: 'file-kept', tenantId: 'acme', filename: 'kept.jsonl', content: '{}', expiresAt: null });
      await store.createFile({ id: 'file-later', tenantId: 'acme', filename: 'later.jsonl', content: '{}', expiresAt: now() + 120_000 });
      assert.equal(await store.purgeExpiredFiles(), 0);
      advance(60_000);
      assert.equal(await store.getFile('acme', 'file-old'), null);
      assert.deepEqual(
        (await store.listFiles('acme', { limit: 10, order: 'asc' })).rows.map((f) => f.id),
        ['file-kept', 'file-later'],
      );
      assert.equal((await store.readFileContent('file-old')).length, FILE_CHUNK_CHARS + 5); // content stays until the purge
      assert.equal(await store.purgeExpiredFiles(), 1);
      assert.equal(await store.readFileContent('file-old'), '');
      assert.equal(await store.purgeExpiredFiles(), 0);
      assert.equal(await store.deleteFile('acme', 'file-kept'), true);
      assert.equal(await store.deleteFile('acme', 'file-kept'), false);
      assert.equal(await store.readFileContent('file-kept'), '');
      assert.equal(await store.deleteFile('globex', 'file-later'), false);
      assert.deepEqual(
        (await store.listFiles('acme', { limit: 10 })).rows.map((f) => f.id),
        ['file-later'],
      );
      advance(60_000);
      assert.equal(await store.purgeExpiredFiles(), 1);
      assert.deepEqual((await store.listFiles('acme', { limit: 10 })).rows, []);
    },
  },
  {
    name: 'metrics and request reads: counts by status, the queue and its oldest job, runners seen, methods by custom_id, requests paged back',
    async run({ store, now, advance }) {
      const empty = await store.metricsSnapshot(60_000);
      assert.deepEqual(empty, { jobsByStatus: {}, requestsByStatus: {}, queuedJobs: 0, oldestQueuedAt: null, runnersSeen: 0 });
      const firstAt = now();
      const job = newJob(3);
      job.requests[1] = { ...job.requests[1], params: { ...SYSTEM_DEFAULTS, compression: { method: 'dms', ratio: 4 } } };
      const running = await created(store, job);
      advance(1_000);
      const queued = await created(store, newJob(2));
      advance(1_000);
      const c = await claimed(store);
      assert.equal(c.id, running);
      await store.writeResults(c.id, c.token, [result('r0')]);
      const snap = await store.metricsSnapshot(60_000);
      assert.deepEqual(snap.jobsByStatus, { queued: 1, running: 1 });
      assert.deepEqual(snap.requestsByStatus, { pending: 4, succeeded: 1 });
      assert.deepEqual([snap.queuedJobs, snap.oldestQueuedAt, snap.runnersSeen], [1, firstAt + 1_000, 1]);
      advance(120_000);
      assert.equal((await store.metricsSnapshot(60_000)).runnersSeen, 0);
      const methods = await store.requestMethods(running, ['r0', 'r1', 'r9']);
      assert.deepEqual([...methods.entries()].sort(), [
        ['r0', 'none'],
        ['r1', 'dms'],
      ]);
      const page = await store.listRequests('acme', running, 0, 1);
      assert.deepEqual(
        page?.map((r) => [r.idx, r.request.custom_id, r.request.prompt, r.request.status, r.request.params.compression.method]),
        [[1, 'r1', 'Q:1+1=', 'pending', 'dms']],
      );
      assert.deepEqual(
        (await store.listRequests('acme', queued, -1, 10))?.map((r) => r.request.custom_id),
        ['r0', 'r1'],
      );
      assert.equal(await store.listRequests('globex', running, -1, 10), null);
    },
  },
];

// One job: status and progress, usage (tokens, KV reads, peak KV, requested vs achieved ratio,
// runner seconds, cost, accuracy), timings, KV charts by method, and every request with its threads.
import { api } from '../api.js';
import { JobProgress, StatusBadge } from '../components/job-progress.js';
import { ScatterChart, type Series } from '../components/scatter-chart.js';
import { bytes, duration, fixed, int, percent, time, usd } from '../format.js';
import { html } from '../html.js';
import { accuracy, joinRows, requestedRatios, type Row } from '../job-rows.js';
import { type Job, type RequestView, type ResultLine, TERMINAL } from '../types.js';
import { usePoll } from '../use-poll.js';
import { RequestsTable } from './requests-table.js';

type Data = { job: Job; requests: RequestView[]; results: ResultLine[] };

/** Jobs this large re-read their results at most every RESULTS_EVERY_MS while they run. */
const LARGE_JOB = 500;
const RESULTS_EVERY_MS = 10_000;

/**
 * Loads the job every poll, and its results only when the number of finished requests moved (the
 * results route streams every line, so a large running job is re-read at most every 10 s).
 */
function loader(id: string) {
  let last: Data | null = null;
  let resultsAt = 0;
  return async (): Promise<Data> => {
    const job = await api.getJob(id);
    const c = job.request_counts;
    const done = c.succeeded + c.failed + c.canceled;
    const requests = last?.requests ?? (await api.requests(id));
    const moved = !last || last.results.length !== done || last.job.status !== job.status;
    const throttled = last !== null && c.total > LARGE_JOB && !TERMINAL.includes(job.status) && Date.now() - resultsAt < RESULTS_EVERY_MS;
    let results = last?.results ?? [];
    if (moved && !throttled) {
      results = await api.results(id);
      resultsAt = Date.now();
    }
    last = { job, requests, results };
    return last;
  };
}

function series(rows: Row[], y: (r: ResultLine) => number | undefined): Series[] {
  const byMethod = new Map<string, Series>();
  for (const row of rows) {
    const u = row.result?.usage;
    const value = row.result ? y(row.result) : undefined;
    if (!u || typeof value !== 'number' || typeof u.completion_tokens !== 'number') continue;
    const s = byMethod.get(row.method) ?? { method: row.method, points: [] };
    s.points.push({ x: u.completion_tokens, y: value, label: row.customId });
    byMethod.set(row.method, s);
  }
  return [...byMethod.values()].sort((a, b) => a.method.localeCompare(b.method));
}

function Usage({ job, rows, results }: { job: Job; rows: Row[]; results: ResultLine[] }) {
  const u = job.usage ?? {};
  const acc = accuracy(job, results);
  const items: Array<[string, string]> = [
    ['Prompt tokens', int(u.prompt_tokens)],
    ['Completion tokens', int(u.completion_tokens)],
    ['KV token reads', int(u.kv_token_reads)],
    ['KV token reads per head', int(u.kv_token_reads_per_head)],
    ['Prefill KV token reads', int(u.prefill_kv_token_reads)],
    ['Peak KV tokens (max)', int(u.peak_kv_tokens)],
    ['Peak KV bytes (max)', bytes(u.peak_kv_bytes)],
    ['Requested ratio', requestedRatios(rows)],
    ['Achieved ratio (token-weighted)', fixed(u.achieved_ratio)],
    ['Runner seconds', fixed(u.runner_seconds, 3)],
    ['Cost', usd(u.cost)],
    ['Accuracy', acc ? `${percent(acc.value)}${acc.graded ? ` of ${acc.graded} graded` : ''}` : '—'],
  ];
  return html`<dl class="facts" data-testid="usage">${items.map(([k, v]) => html`<div><dt>${k}</dt><dd>${v}</dd></div>`)}</dl>`;
}

function Timings({ job, results }: { job: Job; results: ResultLine[] }) {
  const at = (iso: string | null | undefined) => (iso ? Date.parse(iso) : null);
  const created = at(job.created_at);
  const started = at(job.started_at);
  const ended = at(job.completed_at) ?? at(job.failed_at) ?? at(job.canceled_at);
  const mean = (f: (r: ResultLine) => number | undefined) => {
    const xs = results.map(f).filter((x): x is number => typeof x === 'number');
    return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined;
  };
  const items: Array<[string, string]> = [
    ['Created', time(job.created_at)],
    ['Started', time(job.started_at)],
    ['Cancel requested', time(job.cancel_requested_at)],
    ['Finished', time(job.completed_at ?? job.failed_at ?? job.canceled_at)],
    ['Waited in queue', created !== null && started !== null ? duration((started - created) / 1000) : '—'],
    ['Ran for', started !== null && ended !== null ? duration((ended - started) / 1000) : '—'],
    [
      'Mean time to first token',
      mean((r) => r.timings?.ttft_ms) === undefined
        ? '—'
        : `${fixed(
            mean((r) => r.timings?.ttft_ms),
            1,
          )} ms`,
    ],
    [
      'Mean request time',
      mean((r) => r.timings?.total_ms) === undefined
        ? '—'
        : `${fixed(
            mean((r) => r.timings?.total_ms),
            1,
          )} ms`,
    ],
    ['Attempts', job.attempt === undefined ? '—' : `${job.attempt} of ${job.max_attempts ?? '?'}`],
  ];
  return html`<dl class="facts" data-testid="timings">${items.map(([k, v]) => html`<div><dt>${k}</dt><dd>${v}</dd></div>`)}</dl>`;
}

export function JobPage({ id }: { id: string }) {
  const poll = usePoll(loader(id), 1500, (d) => !d || !TERMINAL.includes(d.job.status), [id]);
  if (poll.error && !poll.value) return html`<main><p class="error" role="alert">${poll.error}</p><a href="#/jobs">All jobs</a></main>`;
  if (!poll.value) return html`<main><p class="muted">Loading…</p></main>`;
  const { job, requests, results } = poll.value;
  const rows = joinRows(job, requests, results);
  const c = job.request_counts;

  const cancel = async () => {
    await api.cancel(job.id).catch(() => undefined);
    await poll.refresh();
  };

  return html`<main class="job" data-testid="job-page" data-status=${job.status}>
    <div class="toolbar">
      <h1>Job <code>${job.id}</code></h1>
      <${StatusBadge} status=${job.status} />
      ${TERMINAL.includes(job.status) || job.status === 'canceling' ? '' : html`<button class="danger" onClick=${cancel}>Cancel</button>`}
      <button onClick=${() => download(job.id)}>Download results</button>
    </div>
    ${poll.error ? html`<p class="error" role="alert">${poll.error}</p>` : ''}
    ${job.error ? html`<p class="error">${job.error.code}: ${job.error.message}</p>` : ''}
    <p>Model <strong>${job.model}</strong>${job.metadata?.file ? html` · file <strong>${job.metadata.file}</strong>` : ''}</p>
    <${JobProgress} job=${job} now=${Date.now()} />
    <dl class="facts counts-grid" data-testid="request-counts">
      ${(['total', 'queued', 'running', 'succeeded', 'failed', 'canceled'] as const).map((k) => html`<div><dt>${k}</dt><dd>${c[k]}</dd></div>`)}
    </dl>
    <h2>Usage</h2>
    <${Usage} job=${job} rows=${rows} results=${results} />
    <h2>Timings</h2>
    <${Timings} job=${job} results=${results} />
    <h2>KV cost per request</h2>
    <div class="charts">
      <${ScatterChart} testId="chart-reads" title="KV token reads vs completion tokens" xLabel="completion tokens" yLabel="KV token reads"
        series=${series(rows, (r) => r.usage?.kv_token_reads)} />
      <${ScatterChart} testId="chart-peak" title="Peak KV tokens vs completion tokens" xLabel="completion tokens" yLabel="peak KV tokens"
        series=${series(rows, (r) => r.usage?.peak_kv_tokens)} />
    </div>
    <h2>Requests</h2>
    <${RequestsTable} rows=${rows} />
  </main>`;
}

/** Downloads the NDJSON with the Bearer header (a plain link could not carry the key). */
async function download(id: string): Promise<void> {
  const lines = await api.results(id);
  const blob = new Blob(
    [
      lines
        .map((l) => JSON.stringify(l))
        .join('\n')
        .concat(lines.length ? '\n' : ''),
    ],
    { type: 'application/x-ndjson' },
  );
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = `${id}-results.jsonl`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

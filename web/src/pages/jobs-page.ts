// The jobs list: the tenant's jobs newest first with live status and progress (counts, tokens/s,
// ETA), a status filter the server applies (so older pages are filtered too), older pages on demand, and cancel.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { JobProgress, StatusBadge } from '../components/job-progress.js';
import { time } from '../format.js';
import { html } from '../html.js';
import { jobHref } from '../router.js';
import { JOB_STATUSES, type Job, TERMINAL } from '../types.js';
import { usePoll } from '../use-poll.js';

const PAGE = 50;

export function JobsPage() {
  const [filter, setFilter] = useState('all');
  const [older, setOlder] = useState<Job[]>([]);
  const [olderCursor, setOlderCursor] = useState<string | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const status = filter === 'all' ? undefined : filter;
  const poll = usePoll(
    () => api.listJobs(PAGE, undefined, status),
    2000,
    () => document.visibilityState === 'visible',
    [status],
  );

  const first = poll.value?.data ?? [];
  const firstIds = new Set(first.map((j) => j.id));
  const jobs = [...first, ...older.filter((j) => !firstIds.has(j.id))];
  // The server filtered by status; a job that changed status since its page was read is left out until the next poll.
  const shown = status === undefined ? jobs : jobs.filter((j) => j.status === status);
  const cursor = olderCursor === undefined ? poll.value?.next_after : olderCursor;
  const now = Date.now();

  const loadMore = async () => {
    if (!cursor) return;
    try {
      const page = await api.listJobs(PAGE, cursor, status);
      setOlder([...older, ...page.data]);
      setOlderCursor(page.next_after);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const cancel = async (id: string) => {
    try {
      await api.cancel(id);
      await poll.refresh();
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return html`<main>
    <div class="toolbar">
      <h1>Jobs</h1>
      <label>Status <select data-testid="status-filter" value=${filter} onChange=${(e: Event) => {
        // Another filter is another list: the older pages loaded for this one do not belong to it.
        setOlder([]);
        setOlderCursor(undefined);
        setFilter((e.target as HTMLSelectElement).value);
      }}>
        <option value="all">all</option>
        ${JOB_STATUSES.map((s) => html`<option value=${s}>${s}</option>`)}
      </select></label>
      <a class="button" href="#/submit">Submit a batch</a>
    </div>
    ${poll.error || error ? html`<p class="error" role="alert">${poll.error ?? error}</p>` : ''}
    ${
      poll.value === undefined
        ? html`<p class="muted">Loading…</p>`
        : shown.length === 0
          ? html`<p class="muted" data-testid="no-jobs">No jobs${filter === 'all' ? '' : ` with status ${filter}`} yet.</p>`
          : html`<table class="jobs" data-testid="jobs-table">
              <thead><tr><th>Job</th><th>Created</th><th>Model</th><th>Status</th><th>Progress</th><th></th></tr></thead>
              <tbody>
                ${shown.map(
                  (job) => html`<tr key=${job.id} data-job-id=${job.id}>
                    <td><a href=${jobHref(job.id)}>${job.id}</a>${job.metadata?.file ? html`<div class="muted small">${job.metadata.file}</div>` : ''}</td>
                    <td>${time(job.created_at)}</td>
                    <td>${job.model}</td>
                    <td><${StatusBadge} status=${job.status} /></td>
                    <td><${JobProgress} job=${job} now=${now} /></td>
                    <td>${
                      TERMINAL.includes(job.status) || job.status === 'canceling'
                        ? ''
                        : html`<button class="danger" data-testid="cancel" onClick=${() => cancel(job.id)}>Cancel</button>`
                    }</td>
                  </tr>`,
                )}
              </tbody>
            </table>`
    }
    ${cursor ? html`<button onClick=${loadMore}>Older jobs</button>` : ''}
  </main>`;
}

// A job's live progress: a <progress> bar (no inline style needed under the CSP), the counts by
// outcome, tokens per second and the ETA, all from the job view alone.
import { duration, fixed, progress } from '../format.js';
import { html } from '../html.js';
import type { Job } from '../types.js';

export function JobProgress({ job, now }: { job: Job; now: number }) {
  const p = progress(job, now);
  const c = job.request_counts;
  return html`<div class="progress">
    <progress max=${Math.max(p.total, 1)} value=${p.done} aria-label="requests finished"></progress>
    <span class="counts" data-testid="counts">${p.done}/${p.total}${c.failed ? html` <span class="bad">${c.failed} failed</span>` : ''}${
      c.canceled ? html` <span class="muted">${c.canceled} canceled</span>` : ''
    }</span>
    <span class="rate">${p.tokensPerS === null ? '' : `${fixed(p.tokensPerS, 0)} tok/s`}</span>
    <span class="eta">${p.etaS === null ? '' : `ETA ${duration(p.etaS)}`}</span>
  </div>`;
}

export function StatusBadge({ status }: { status: string }) {
  return html`<span class=${`badge status-${status}`} data-testid="status">${status}</span>`;
}

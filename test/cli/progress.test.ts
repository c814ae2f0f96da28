// `dms watch` drawing on a terminal: each redraw fits the terminal's width (so \r redraws in place
// instead of wrapping and scrolling), and polling many times leaks no abort listener.
import { afterEach, describe, expect, it } from 'vitest';
import { fittedProgress, watchJob } from '../../cli/progress.js';
import type { Job } from '../../protocol/index.js';

/** A job as GET /v1/jobs/:id shows it, `done` of `total` requests finished. */
function jobAt(done: number, total: number, status: Job['status']): Job {
  return {
    id: 'job_wide',
    object: 'job',
    model: 'reasoner',
    status,
    created_at: '2026-01-01T00:00:00.000Z',
    started_at: null,
    cancel_requested_at: null,
    completed_at: null,
    failed_at: null,
    canceled_at: null,
    attempt: 1,
    max_attempts: 3,
    request_counts: { total, queued: 0, running: total - done, succeeded: done, failed: 0, canceled: 0 },
    usage: null,
    error: null,
    defaults: null,
    metadata: null,
  };
}

/** What a terminal of `columns` receives: every write kept. */
function terminal(columns: number) {
  const writes: string[] = [];
  const out = { isTTY: true, columns, write: (s: string) => writes.push(s) > 0 } as unknown as NodeJS.WriteStream;
  return { out, writes };
}

const warnings: Error[] = [];
const onWarning = (w: Error) => warnings.push(w);
afterEach(() => void process.off('warning', onWarning));

describe('dms watch on a terminal', () => {
  it('redraws within the width over many polls and leaks no abort listener', async () => {
    process.on('warning', onWarning);
    const total = 123_456;
    const polls = 40;
    let calls = 0;
    // Stands in for the gateway: the job moves a step per poll, then completes.
    const client = {
      getJob: async () => {
        calls += 1;
        return calls >= polls ? jobAt(total, total, 'completed') : jobAt(calls * 3000, total, 'running');
      },
    };
    const { out, writes } = terminal(80);
    const controller = new AbortController(); // what `dms watch` passes: Ctrl-C aborts it
    const job = await watchJob(client, 'job_wide', { intervalMs: 1, out, signal: controller.signal });
    expect(job.status).toBe('completed');
    expect(writes).toHaveLength(polls);
    for (const w of writes) {
      expect(w.startsWith('\r\x1b[2K')).toBe(true);
      const visible = w.slice(5).replace(/\n$/, '');
      expect(visible).not.toContain('\n');
      expect(visible.length).toBeLessThanOrEqual(79);
    }
    expect(writes.at(-1)).toMatch(/123456\/123456 ok 123456 .*done \| completed\n$/);
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });

  it('narrows the bar, then drops it, then cuts the line as the terminal narrows', () => {
    const job = jobAt(40, 100, 'running');
    const r = { tokensPerSecond: 1_234_567, etaSeconds: 5025 };
    const wide = fittedProgress(job, r, 200);
    expect(wide).toMatch(/^\[#{10}-{14}\] 40\/100 /); // the full 24-column bar
    for (const columns of [90, 80, 72, 60, 40, 20]) expect(fittedProgress(job, r, columns).length).toBeLessThanOrEqual(columns - 1);
    expect(fittedProgress(job, r, 90)).toMatch(/^\[#{4,6}-{6,8}\] 40\/100/); // a narrower bar
    expect(fittedProgress(job, r, 60)).toMatch(/^40\/100 ok 40/);
    expect(fittedProgress(job, r, 20)).toMatch(/…$/);
  });
});

// Live progress of a job for `dms watch` and `submit --wait`: a bar with request counts, generated
// tokens per second and an ETA from the rates seen since watching began; redrawn in place on a TTY.
import type { Job, RequestCounts } from '../protocol/index.js';
import { TERMINAL_STATUSES } from '../protocol/index.js';
import type { GatewayClient } from './client.js';
import { CliError, EXIT, type ExitCode } from './errors.js';

/** Rates measured between the first and the latest observation. */
export type Rates = { tokensPerSecond: number | null; etaSeconds: number | null };

export type Observation = { atMs: number; finished: number; completionTokens: number };

const finishedOf = (c: RequestCounts) => c.succeeded + c.failed + c.canceled;

export function observe(job: Job, atMs: number): Observation {
  return { atMs, finished: finishedOf(job.request_counts), completionTokens: job.usage?.completion_tokens ?? 0 };
}

/** Tokens/s and ETA from two observations; null until something has moved. */
export function rates(first: Observation, last: Observation, total: number): Rates {
  const seconds = (last.atMs - first.atMs) / 1000;
  if (seconds <= 0) return { tokensPerSecond: null, etaSeconds: null };
  const tokens = last.completionTokens - first.completionTokens;
  const done = last.finished - first.finished;
  const perSecond = done / seconds;
  return {
    tokensPerSecond: tokens > 0 ? tokens / seconds : null,
    etaSeconds: perSecond > 0 ? (total - last.finished) / perSecond : null,
  };
}

function duration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

/** One line: `[####------] 40/100 ok 38 failed 2 canceled 0 | 1,234 tok/s | ETA 0:42 | running`. */
export function renderProgress(job: Pick<Job, 'request_counts' | 'status'>, r: Rates, width = 24): string {
  const c = job.request_counts;
  const finished = finishedOf(c);
  const filled = c.total === 0 ? width : Math.round((finished / c.total) * width);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
  const tps = r.tokensPerSecond === null ? '-- tok/s' : `${Math.round(r.tokensPerSecond).toLocaleString('en-US')} tok/s`;
  const terminal = TERMINAL_STATUSES.includes(job.status);
  const eta = terminal ? 'done' : r.etaSeconds === null ? 'ETA --' : `ETA ${duration(r.etaSeconds)}`;
  return `${bar} ${finished}/${c.total} ok ${c.succeeded} failed ${c.failed} canceled ${c.canceled} | ${tps} | ${eta} | ${job.status}`;
}

/** Widest bar drawn; it shrinks (down to none) so the line fits the terminal. */
const BAR_WIDTH = 24;

/**
 * The progress line fitted to a terminal `columns` wide: one column short of it (a full-width line
 * wraps on some terminals, and a wrapped line cannot be redrawn with \r), by narrowing the bar first,
 * then dropping it, then cutting the end with an ellipsis.
 */
export function fittedProgress(job: Pick<Job, 'request_counts' | 'status'>, r: Rates, columns: number): string {
  const room = Math.max(columns - 1, 1);
  const full = renderProgress(job, r, BAR_WIDTH);
  if (full.length <= room) return full;
  const bar = BAR_WIDTH - (full.length - room);
  if (bar >= 5) return renderProgress(job, r, bar);
  const bare = full.slice(BAR_WIDTH + 3); // without "[...] "
  return bare.length <= room ? bare : `${bare.slice(0, room - 1)}…`;
}

/** The exit code a finished job maps to: 0 only when every request succeeded. */
export function exitCodeOf(job: Job): ExitCode {
  return job.status === 'completed' && job.request_counts.succeeded === job.request_counts.total ? EXIT.ok : EXIT.incomplete;
}

export type WatchOptions = { intervalMs: number; out: NodeJS.WriteStream; signal?: AbortSignal };

/** Waits `ms`, or rejects with `interrupted()` when the signal aborts; its listener never outlives the wait. */
function pause(ms: number, signal: AbortSignal | undefined, interrupted: () => Error): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(interrupted());
    const onAbort = () => {
      clearTimeout(timer);
      reject(interrupted());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Polls until the job is terminal, drawing progress; resolves with the final job. */
export async function watchJob(client: Pick<GatewayClient, 'getJob'>, id: string, opts: WatchOptions): Promise<Job> {
  const tty = opts.out.isTTY === true;
  let job = await client.getJob(id);
  const first = observe(job, Date.now());
  let lastKey = '';
  const interrupted = () => new CliError(EXIT.interrupted, `stopped watching ${id} (the job keeps running; \`dms watch ${id}\` resumes)`);
  for (;;) {
    const r = rates(first, observe(job, Date.now()), job.request_counts.total);
    const terminal = TERMINAL_STATUSES.includes(job.status);
    // A TTY redraws one line in place, fitted to its width (read each time: the window may be resized);
    // a log or pipe gets a full line only when counts or status change.
    const key = `${finishedOf(job.request_counts)} ${job.status}`;
    if (tty) opts.out.write(`\r\x1b[2K${fittedProgress(job, r, opts.out.columns || 80)}${terminal ? '\n' : ''}`);
    else if (key !== lastKey) opts.out.write(`${renderProgress(job, r)}\n`);
    lastKey = key;
    if (terminal) return job;
    try {
      await pause(opts.intervalMs, opts.signal, interrupted);
    } catch (error) {
      if (tty) opts.out.write('\n');
      throw error;
    }
    job = await client.getJob(id);
  }
}

// Number, time and progress formatting for the console; every helper accepts missing values and
// answers an em dash, so fields an older gateway does not send simply show as absent.
import type { Job } from './types.js';

const DASH = '—';
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export function int(v: unknown): string {
  return isNum(v) ? Math.round(v).toLocaleString('en-US') : DASH;
}

export function fixed(v: unknown, digits = 2): string {
  return isNum(v) ? v.toFixed(digits) : DASH;
}

export function usd(v: unknown): string {
  return isNum(v) ? `$${v < 0.01 ? v.toFixed(6) : v.toFixed(4)}` : DASH;
}

export function bytes(v: unknown): string {
  if (!isNum(v)) return DASH;
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let x = v;
  let u = 0;
  while (x >= 1024 && u < units.length - 1) {
    x /= 1024;
    u++;
  }
  return `${u === 0 ? x : x.toFixed(1)} ${units[u]}`;
}

export function percent(v: unknown): string {
  return isNum(v) ? `${(v * 100).toFixed(1)}%` : DASH;
}

export function duration(seconds: unknown): string {
  if (!isNum(seconds) || seconds < 0) return DASH;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}` : `${m}:${String(s % 60).padStart(2, '0')}`;
}

export function time(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString('en-GB', { hour12: false }) : DASH;
}

const ms = (iso: string | null | undefined) => (iso ? Date.parse(iso) : null);

/** When the job stopped changing (completed, failed or canceled), or null while it is live. */
export function endedAt(job: Job): number | null {
  return ms(job.completed_at) ?? ms(job.failed_at) ?? ms(job.canceled_at);
}

export type Progress = { done: number; total: number; elapsedS: number | null; tokensPerS: number | null; etaS: number | null };

/** Finished requests, seconds since the first claim, completion tokens per second and the ETA. */
export function progress(job: Job, now: number = Date.now()): Progress {
  const c = job.request_counts;
  const done = c.succeeded + c.failed + c.canceled;
  const started = ms(job.started_at);
  const end = endedAt(job) ?? now;
  const elapsedS = started === null ? null : Math.max(0, (end - started) / 1000);
  const tokens = job.usage?.completion_tokens;
  const tokensPerS = elapsedS && elapsedS > 0 && isNum(tokens) ? tokens / elapsedS : null;
  const live = endedAt(job) === null && job.status === 'running';
  const etaS = live && elapsedS !== null && done > 0 && done < c.total ? ((c.total - done) * elapsedS) / done : null;
  return { done, total: c.total, elapsedS, tokensPerS, etaS };
}

// A progress bar with an ETA on stderr: one redrawn line on a TTY, plain text lines otherwise (a line
// per finished point and at most one per `plainEveryMs` inside a long point). ETA = elapsed / done x left.

export interface ProgressSink {
  isTTY?: boolean;
  write(s: string): unknown;
}

/** Seconds as "1h02m", "3m05s" or "42s". */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  const t = Math.round(s);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = t % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(sec).padStart(2, '0')}s`;
  return `${sec}s`;
}

/** Progress over weighted work items (a grid point's weight is its expected generated tokens). */
export class Progress {
  private doneWeight = 0;
  private pointsDone = 0;
  private current: { label: string; weight: number; total: number; done: number } | null = null;
  private readonly started: number;
  private lastPlain = -Infinity;

  constructor(
    private readonly totalWeight: number,
    private readonly numPoints: number,
    private readonly out: ProgressSink = process.stderr,
    private readonly now: () => number = () => performance.now(),
    private readonly plainEveryMs = 30_000,
  ) {
    this.started = this.now();
  }

  /** Starts a work item of `weight` made of `total` sub-steps (problems). */
  start(label: string, weight: number, total: number): void {
    this.current = { label, weight, total, done: 0 };
    this.draw();
  }

  /** Sub-step progress inside the current item. */
  tick(done: number): void {
    if (!this.current) return;
    this.current.done = done;
    this.draw();
  }

  /** Ends the current item with a one-line note (its result). */
  finish(note: string): void {
    if (!this.current) return;
    this.doneWeight += this.current.weight;
    this.pointsDone++;
    const label = this.current.label;
    this.current = null;
    if (this.out.isTTY) this.out.write('\r\x1b[K');
    this.out.write(
      `[${this.pointsDone}/${this.numPoints}] ${label}: ${note}  (elapsed ${formatDuration(this.elapsedS())}, ETA ${formatDuration(this.etaS())})\n`,
    );
  }

  /** Clears the bar line (TTY) before other output. */
  close(): void {
    if (this.out.isTTY) this.out.write('\r\x1b[K');
  }

  elapsedS(): number {
    return (this.now() - this.started) / 1000;
  }

  /** Fraction of the total weight done, counting the current item's finished sub-steps. */
  fraction(): number {
    const partial = this.current && this.current.total > 0 ? (this.current.weight * this.current.done) / this.current.total : 0;
    return this.totalWeight > 0 ? Math.min(1, (this.doneWeight + partial) / this.totalWeight) : 1;
  }

  /** Seconds left at the rate so far; Infinity before anything is done. */
  etaS(): number {
    const f = this.fraction();
    if (f <= 0) return Infinity;
    return (this.elapsedS() * (1 - f)) / f;
  }

  private draw(): void {
    const c = this.current;
    if (!c) return;
    const pct = this.fraction();
    const line = `${c.label} ${c.done}/${c.total} problems | points ${this.pointsDone}/${this.numPoints} | elapsed ${formatDuration(this.elapsedS())} ETA ${formatDuration(this.etaS())}`;
    if (this.out.isTTY) {
      const width = 24;
      const fill = Math.round(pct * width);
      this.out.write(`\r\x1b[K[${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${(pct * 100).toFixed(1)}% ${line}`);
      return;
    }
    const t = this.now();
    if (t - this.lastPlain >= this.plainEveryMs) {
      this.lastPlain = t;
      this.out.write(`progress ${(pct * 100).toFixed(1)}% ${line}\n`);
    }
  }
}

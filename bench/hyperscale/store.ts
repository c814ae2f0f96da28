// The resumable results file: one JSON line per finished grid point, keyed by its config, problem set
// and checkpoint hash; a rerun reads it and skips every key already there (the last line of a key wins).
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/** One finished point as the JSON lists it, plus what it ran on. */
export interface PointResult {
  method: string;
  ratio: number;
  /** DMS sliding window the point ran with (0 for dms-w0); null for methods without one. */
  window: number | null;
  W: number;
  L: number;
  /** Majority-vote accuracy over the problem set. */
  accuracy: number;
  /** Mean decode-time KV token reads per problem (all W threads, layers and KV heads). */
  kv_reads_per_problem: number;
  /** Mean over problems of the KV tokens held at once by its W threads (all layers and heads). */
  peak_kv_tokens_per_problem: number;
  /** Throughput of the whole set under the KV budget. */
  problems_per_s: number;
  tokens_per_s: number;
  /** Most threads decoded together in one step; mean_batch is the per-step mean. */
  max_batch: number;
  mean_batch: number;
  preemptions: number;
  /** Tokens seen / tokens retained, weighted by generated tokens. */
  achieved_ratio: number;
  temperature: number;
  completion_tokens_per_problem: number;
  wall_s: number;
  /** The checkpoint: source folder, sha256 of its weights, training step when known, when it was written. */
  checkpoint: { path: string; sha256: string; step: number | null; written_at?: string };
}

export interface StoredPoint {
  key: string;
  finished_at: string;
  backend: string;
  result: PointResult;
}

export class PointStore {
  private readonly byKey = new Map<string, StoredPoint>();
  /** Lines that did not parse (a run killed mid-write leaves at most one). */
  readonly numBadLines: number = 0;

  constructor(readonly path: string) {
    if (!existsSync(path)) return;
    let bad = 0;
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      try {
        const rec = JSON.parse(line) as StoredPoint;
        if (typeof rec.key === 'string' && rec.result) this.byKey.set(rec.key, rec);
        else bad++;
      } catch {
        bad++;
      }
    }
    this.numBadLines = bad;
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  get(key: string): StoredPoint | undefined {
    return this.byKey.get(key);
  }

  /** The checkpoint of the last point stored for a checkpoint folder (what --report-only reports on). */
  latestCheckpoint(path: string): PointResult['checkpoint'] | null {
    let last: StoredPoint | null = null;
    for (const rec of this.byKey.values()) {
      if (rec.result.checkpoint.path === path && (last === null || rec.finished_at >= last.finished_at)) last = rec;
    }
    return last ? last.result.checkpoint : null;
  }

  get size(): number {
    return this.byKey.size;
  }

  /** Appends one finished point (one write of one line, so a kill leaves earlier lines intact). */
  append(rec: StoredPoint): void {
    mkdirSync(dirname(this.path), { recursive: true });
    // A newline first when the file does not end in one (a torn last line stays on its own line).
    const text = readTail(this.path);
    appendFileSync(this.path, `${(text !== '' && !text.endsWith('\n') ? '\n' : '') + JSON.stringify(rec)}\n`);
    this.byKey.set(rec.key, rec);
  }
}

/** The file's last character ('' when missing or empty). */
function readTail(path: string): string {
  if (!existsSync(path)) return '';
  const size = statSync(path).size;
  if (size === 0) return '';
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, size - 1);
    return b.toString('latin1');
  } finally {
    closeSync(fd);
  }
}

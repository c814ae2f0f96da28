// Continuous batching under the KV memory budget: each step schedules (resume preempted threads,
// fork waiting threads, admit and prefill new requests while pages allow), executes one decode step for
// every running thread on the model executor, then postprocesses (sample, stop, retire); preempts and recomputes instead of failing.
import type { ModelConfig } from '../model/config.js';
import type { Tokenizer } from '../model/tokenizer.js';
import { findStop } from './answer.js';
import type { ModelExecutor, StepOutput } from '../executors/executor.js';
import { sampleCandidates } from './candidate-sampler.js';
import { type SamplingParams, sampleToken } from './sampler.js';
import type { RequestState, ThreadState } from './sequence.js';

export interface SchedulerOptions {
  /** Most threads decoding together. */
  maxBatch: number;
}

export class Scheduler {
  private readonly waiting: RequestState[] = [];
  private readonly forking: RequestState[] = [];
  private readonly preempted: ThreadState[] = [];
  private readonly running: ThreadState[] = [];
  private readonly cfg: ModelConfig;
  private readonly stopIds: Set<number>;
  /** Threads preempted so far (for tests and logs). */
  numPreemptions = 0;
  /** Most threads decoded together in one step so far (the batch the KV budget allowed). */
  maxBatchReached = 0;
  /** Decode steps run and thread-steps in them (their ratio is the mean batch). */
  numDecodeSteps = 0;
  numThreadSteps = 0;

  constructor(
    readonly runner: ModelExecutor,
    readonly tokenizer: Tokenizer,
    readonly opts: SchedulerOptions,
  ) {
    this.cfg = runner.config;
    this.stopIds = new Set([...this.cfg.eosTokenIds, ...(tokenizer.eosId !== null ? [tokenizer.eosId] : [])]);
  }

  enqueue(r: RequestState): void {
    this.waiting.push(r);
  }

  hasWork(): boolean {
    return this.waiting.length + this.forking.length + this.preempted.length + this.running.length > 0;
  }

  /** One engine step (schedule -> execute -> postprocess); returns the requests that finished in it. */
  async step(): Promise<RequestState[]> {
    const finished: RequestState[] = [];
    await this.schedule(finished);
    if (this.running.length > 0) {
      this.reserveDecodeMemory();
      const batch = this.running.slice();
      const t0 = performance.now();
      const out = await this.runner.run(
        batch.map((t) => ({
          seq: t.seq!,
          token: t.next,
          position: t.fed.length,
          wantLogits: true,
          greedy: isGreedy(t.request),
          sampling: samplingOf(t.request),
        })),
      );
      this.postprocess(batch, out, performance.now() - t0, finished);
    }
    return finished;
  }

  /** Frees every cache sequence (abort). */
  releaseAll(): void {
    for (const t of this.running) if (t.seq !== null) this.runner.free(t.seq);
    for (const r of this.forking) if (r.prefix !== null) this.runner.free(r.prefix);
    this.running.length = 0;
    this.forking.length = 0;
    this.preempted.length = 0;
    this.waiting.length = 0;
  }

  private get pool() {
    return this.runner.cache.pool;
  }

  /** Whether `pages` more fit beside the next decode step of everything running (no admit-then-preempt thrash). */
  private fits(pages: number): boolean {
    return this.pool.canAllocate(pages + this.decodeNeed());
  }

  /** Worst-case pages the next decode step of the running threads needs. */
  private decodeNeed(): number {
    let n = 0;
    for (const t of this.running) n += this.runner.cache.pagesForNextToken(t.seq!);
    return n;
  }

  /** Worst-case pages to prefill n tokens into a fresh sequence and take one more token. */
  private pagesFor(n: number): number {
    return this.runner.cache.rowsPerSequence * Math.ceil((n + 1) / this.pool.pageSize);
  }

  private async schedule(finished: RequestState[]): Promise<void> {
    // 1. Preempted threads come back first: re-prefill what they had fed (recompute).
    while (this.preempted.length > 0 && this.running.length < this.opts.maxBatch && this.fits(this.pagesFor(this.preempted[0].fed.length))) {
      const t = this.preempted.shift()!;
      t.seq = this.runner.addSequence(t.request.policy);
      await this.prefill(t.request, t.seq, t.fed, false);
      this.running.push(t);
    }
    if (this.preempted.length > 0) return;
    for (;;) {
      // 2. Threads waiting for a copy of their prefilled prompt.
      while (this.forking.length > 0 && this.running.length < this.opts.maxBatch) {
        const r = this.forking[0];
        const last = r.pendingForks.length === 1;
        if (!last && !this.fits(this.runner.cache.pagesHeld(r.prefix!) + this.runner.cache.rowsPerSequence)) {
          if (this.running.length > 0) break;
          // Nothing runs that could free memory: the other threads will recompute the prompt later.
          this.preempted.push(...r.pendingForks.splice(1));
          continue;
        }
        const t = r.pendingForks.shift()!;
        // The last waiting thread takes the prefix itself: no copy.
        t.seq = last ? r.prefix! : this.runner.fork(r.prefix!);
        this.running.push(t);
        if (last) {
          r.prefix = null;
          this.forking.shift();
        }
      }
      if (this.forking.length > 0 || this.preempted.length > 0 || this.waiting.length === 0 || this.running.length >= this.opts.maxBatch) return;
      // 3. A new request, if the budget allows.
      const r = this.waiting[0];
      if (!this.fits(this.pagesFor(r.promptIds.length))) {
        if (this.running.length === 0 && this.pool.numUsed === 0) {
          throw new Error(
            `request ${r.req.id}: a prompt of ${r.promptIds.length} tokens does not fit the KV budget (${this.pool.numPages} pages of ${this.pool.pageSize} tokens)`,
          );
        }
        return;
      }
      this.waiting.shift();
      await this.admit(r, finished);
    }
  }

  /** Prefills a request's prompt once, samples every thread's first token, queues the forks. */
  private async admit(r: RequestState, finished: RequestState[]): Promise<void> {
    const seq = this.runner.addSequence(r.policy);
    r.prefix = seq;
    const out = await this.prefill(r, seq, r.promptIds, true);
    r.prefilled = true;
    const now = performance.now();
    r.acct.firstToken(now);
    for (const t of r.threads) this.accept(t, out, 0, 0);
    const live = r.threads.filter((t) => !t.finished);
    if (live.length === 0) {
      this.runner.free(seq);
      r.prefix = null;
      finished.push(r);
      return;
    }
    r.pendingForks = live;
    this.forking.push(r);
  }

  /** Runs tokens through a fresh sequence; accounts the reads and time to the request. */
  private async prefill(r: RequestState, seq: number, tokens: number[], wantLogits: boolean): Promise<StepOutput> {
    const t0 = performance.now();
    const greedy = isGreedy(r);
    const sampling = samplingOf(r);
    const out = await this.runner.run(
      tokens.map((token, i) => ({ seq, token, position: i, wantLogits: wantLogits && i === tokens.length - 1, greedy, sampling })),
    );
    const ms = performance.now() - t0;
    r.acct.prefillMs += ms;
    r.acct.computeMs += ms;
    for (const x of out.reads) r.acct.prefillReads += x;
    this.observeHeld(r);
    return out;
  }

  /** Preempts the most recently admitted threads until the next step's worst-case pages fit. */
  private reserveDecodeMemory(): void {
    while (!this.pool.canAllocate(this.decodeNeed()) && this.running.length > 1) {
      const t = this.running.pop()!;
      this.runner.free(t.seq!);
      t.seq = null;
      this.preempted.unshift(t);
      this.numPreemptions++;
    }
    if (!this.pool.canAllocate(this.decodeNeed())) {
      const t = this.running[0];
      throw new Error(
        `request ${t.request.req.id}: one thread of ${t.fed.length} tokens exceeds the KV budget (${this.pool.numPages} pages of ${this.pool.pageSize} tokens)`,
      );
    }
  }

  /** Accounts one executed decode step of `batch` (ms of wall time), samples, and retires finished threads. */
  private postprocess(batch: ThreadState[], out: StepOutput, ms: number, finished: RequestState[]): void {
    if (batch.length > this.maxBatchReached) this.maxBatchReached = batch.length;
    this.numDecodeSteps++;
    this.numThreadSteps += batch.length;
    const requests = new Set<RequestState>();
    let row = 0;
    batch.forEach((t, i) => {
      // Each thread carries an equal share of the step: the request's compute time (runner_seconds).
      t.request.acct.computeMs += ms / batch.length;
      t.fed.push(t.next);
      t.request.acct.observeDecodeStep(out.reads[i], t.fed.length, this.runner.cache.tokensHeld(t.seq!));
      requests.add(t.request);
      this.accept(t, out, i, out.ids[i] >= 0 || out.candidates?.[i] ? -1 : row++);
    });
    for (const r of requests) {
      r.acct.decodeMs += ms;
      this.observeHeld(r);
    }
    const done = new Set<RequestState>();
    for (let i = this.running.length - 1; i >= 0; i--) {
      const t = this.running[i];
      if (!t.finished) continue;
      this.running.splice(i, 1);
      this.runner.free(t.seq!);
      t.seq = null;
      if (t.request.done) done.add(t.request);
    }
    finished.push(...[...done].sort((a, b) => a.order - b.order));
  }

  /** Samples a thread's next token (wanted item i: its greedy id, its candidates, or logits row `row`) and applies the stop rules. */
  private accept(t: ThreadState, out: StepOutput, i: number, row: number): void {
    const r = t.request;
    const V = this.cfg.vocabSize;
    const cand = out.candidates?.[i];
    const x = out.ids[i] >= 0 ? out.ids[i] : cand ? sampleCandidates(cand, samplingOf(r), t.rng) : sampleToken(out.logits, row * V, V, samplingOf(r), t.rng);
    t.generated.push(x);
    r.acct.completionTokens++;
    const reason = this.stopReason(t, x);
    if (reason) this.finish(t, reason);
    else t.next = x;
  }

  /** Why a thread stops after sampling x, or null when it goes on. */
  private stopReason(t: ThreadState, x: number): 'stop' | 'length' | null {
    const r = t.request;
    if (this.stopIds.has(x) && !r.req.ignoreEos) return 'stop';
    if (r.stop.length > 0) {
      // Only the tail can hold a new stop string: decode a window wide enough for the longest one.
      const width = 4 * Math.max(...r.stop.map((s) => s.length)) + 8;
      if (findStop(this.tokenizer.decode(t.generated.slice(-width)), r.stop) >= 0) return 'stop';
    }
    if (t.generated.length >= r.req.maxTokens || t.fed.length + 1 >= this.cfg.maxPositionEmbeddings) return 'length';
    return null;
  }

  private finish(t: ThreadState, reason: 'stop' | 'length'): void {
    t.finishReason = reason;
    const ids = reason === 'stop' && this.stopIds.has(t.generated[t.generated.length - 1]) ? t.generated.slice(0, -1) : t.generated;
    const text = this.tokenizer.decode(ids);
    const at = findStop(text, t.request.stop);
    t.text = at >= 0 ? text.slice(0, at) : text;
    if (t.request.threads.every((x) => x.finished)) t.request.acct.finishedAt = performance.now();
  }

  /** Peak KV bookkeeping: tokens held by all live sequences of the request. */
  private observeHeld(r: RequestState): void {
    const cache = this.runner.cache;
    let held = r.prefix !== null ? cache.tokensHeld(r.prefix) : 0;
    for (const t of r.threads) if (t.seq !== null && t.seq !== r.prefix) held += cache.tokensHeld(t.seq);
    r.acct.observeHeld(held);
  }
}

/** A request's sampling knobs (the executor may answer its rows with candidates that decide them). */
function samplingOf(r: RequestState): SamplingParams {
  return { temperature: r.temperature, topK: r.topK, topP: r.topP };
}

/** A request sampled greedily (sampleToken's rule): the executor returns its token ids, not its logits. */
function isGreedy(r: RequestState): boolean {
  return !(r.temperature > 0);
}

// The runtime's view of work: a request (prompt prefilled once, its accounting, its policy) and its
// n threads (each a cache sequence, the tokens fed so far, the next token to feed, its own PRNG).
import type { RequestAccounting } from '../accounting.js';
import type { CompressionSpec, KvPolicy } from '../policies/kv-policy.js';
import { Rng, threadSeed } from './sampler.js';

/** One request as generate() takes it (plain data). */
export interface GenerateRequest {
  /** Caller's id, echoed in the result. */
  id: string;
  /** Prompt text (the tokenizer's bos is prepended). */
  prompt: string;
  /** Chat turns: when given, the prompt ids come from the checkpoint's chat template over them and `prompt` is only a label. */
  messages?: { role: string; content: string }[];
  /** Most tokens generated per thread. */
  maxTokens: number;
  /** Sampling temperature (0: greedy). */
  temperature?: number;
  /** Nucleus mass (1: off). */
  topP?: number;
  /** Top-k (0: off). */
  topK?: number;
  /** PRNG seed: same seed, same output. */
  seed?: number;
  /** Stop strings: a thread stops at the first one (which is cut from its text). */
  stop?: string[];
  /** Threads sampled from the one prefilled prompt (majority vote over their answers). */
  n?: number;
  /** KV policy and ratio. */
  compression?: CompressionSpec;
  /** Regex whose first capture group is the answer (default: text after the last "A:" up to ";"). */
  answerPattern?: string;
  /** Keep generating past end-of-sequence tokens (benchmarks: fixed-length decodes, like vLLM's ignore_eos). */
  ignoreEos?: boolean;
}

export type FinishReason = 'stop' | 'length';

export class ThreadState {
  /** Cache sequence id while the thread holds a cache, else null (pending fork, preempted, finished). */
  seq: number | null = null;
  /** Tokens fed into the cache so far (prompt + generated, except `next`). */
  fed: number[];
  /** Generated token ids (including a final eos). */
  readonly generated: number[] = [];
  /** Sampled, not yet fed. */
  next = -1;
  readonly rng: Rng;
  finishReason: FinishReason | null = null;
  /** Final text (set at finish). */
  text = '';

  constructor(
    readonly request: RequestState,
    readonly index: number,
  ) {
    this.fed = request.promptIds.slice();
    this.rng = new Rng(threadSeed(request.seed, index));
  }

  get finished(): boolean {
    return this.finishReason !== null;
  }
}

export class RequestState {
  readonly threads: ThreadState[];
  /** The prefilled prompt kept as a template while some threads still wait for their fork. */
  prefix: number | null = null;
  /** Threads whose first token is sampled but whose cache is not forked yet. */
  pendingForks: ThreadState[] = [];
  prefilled = false;
  readonly temperature: number;
  readonly topP: number;
  readonly topK: number;
  readonly seed: number;
  readonly stop: string[];

  constructor(
    readonly req: GenerateRequest,
    readonly order: number,
    readonly promptIds: number[],
    readonly policy: KvPolicy,
    readonly acct: RequestAccounting,
  ) {
    this.temperature = req.temperature ?? 0;
    this.topP = req.topP ?? 1;
    this.topK = req.topK ?? 0;
    this.seed = req.seed ?? 0;
    this.stop = req.stop ?? [];
    const n = req.n ?? 1;
    this.threads = Array.from({ length: n }, (_, i) => new ThreadState(this, i));
  }

  get done(): boolean {
    return this.prefilled && this.threads.every((t) => t.finished);
  }
}

// What a webgpu step reads back, in one mapped buffer: [DMS logits | ids | candidates | logits of the
// rows sampled from all V], its decoding into a StepResult, and the follow-up read of rows whose
// candidates did not decide the draw.
import type { Candidates } from '../../runtime/candidate-sampler.js';
import type { GpuContext } from './gpu-context.js';
import type { StepBuffers } from './step-upload.js';
import { candidateSumRelErr, candidateWords } from './wgsl-top-candidates.js';

export interface StepResult {
  logits: Float32Array; // [S, V]: the wanted rows neither greedy nor answered by candidates
  ids: Int32Array; // [M]: the argmax of greedy rows, -1 for the others
  candidates: (Candidates | null)[]; // [M]: the top C of candidate rows, null for the others
  dms: Float32Array | null; // [L, n, K]
  /** Milliseconds from submit to the mapped readback. */
  waitMs: number;
  /** Bytes read back (DMS logits + ids + candidates + logits of the rows sampled from all V). */
  readbackBytes: number;
}

/** The device buffers a step's results sit in. */
export interface ReadbackSources {
  dms: GPUBuffer; // [L, n, K]
  ids: GPUBuffer; // [m] argmax per wanted row
  cand: GPUBuffer; // [r, 2C + 2] per candidate row
  logits: GPUBuffer; // [m, V]
}

/** The parts of one step's readback, in buffer order. */
export interface ReadbackPlan {
  /** DMS logits to read (L * n * K, or 0). */
  dmsFloats: number;
  /** m when any wanted row is greedy, else 0. */
  idWords: number;
  /** Candidate rows (2C + 2 words each). */
  candRows: number;
  /** Wanted rows whose V logits come back, ascending. */
  logitRows: number[];
}

/** What a step reads back: `dmsFloats` DMS logits (or 0), its `candRows` candidate rows, ids if any row is greedy, the other rows' logits. */
export function stepReadbackPlan(step: StepBuffers, dmsFloats: number, candRows: number): ReadbackPlan {
  return {
    dmsFloats,
    idWords: step.greedy.some((g) => g) ? step.wanted.length : 0,
    candRows,
    logitRows: step.wanted.flatMap((_, j) => (step.greedy[j] || step.invT[j] !== null ? [] : [j])),
  };
}

/** Bytes of a plan's readback. */
export function readbackBytes(plan: ReadbackPlan, V: number, C: number): number {
  return (plan.dmsFloats + plan.idWords + plan.candRows * candidateWords(C) + plan.logitRows.length * V) * 4;
}

/** Records the copies of a plan into `dst` (runs of consecutive logits rows in one copy). */
export function recordReadback(enc: GPUCommandEncoder, src: ReadbackSources, dst: GPUBuffer, plan: ReadbackPlan, V: number, C: number): void {
  let at = 0;
  const copy = (from: GPUBuffer, offset: number, words: number) => {
    if (words > 0) enc.copyBufferToBuffer(from, offset * 4, dst, at * 4, words * 4);
    at += words;
  };
  copy(src.dms, 0, plan.dmsFloats);
  copy(src.ids, 0, plan.idWords);
  copy(src.cand, 0, plan.candRows * candidateWords(C));
  copyRows(plan.logitRows, (j, rows) => copy(src.logits, j * V, rows * V));
}

/** Calls copy(first, count) for each run of consecutive rows. */
function copyRows(rows: number[], copy: (first: number, count: number) => void): void {
  for (let a = 0; a < rows.length; ) {
    let b = a;
    while (b + 1 < rows.length && rows[b + 1] === rows[b] + 1) b++;
    copy(rows[a], b - a + 1);
    a = b + 1;
  }
}

/** Maps the first `bytes` of `buf` and copies them out; milliseconds from `t0` to mapped. */
export async function mapRead(buf: GPUBuffer, bytes: number, t0: number): Promise<{ raw: ArrayBuffer; waitMs: number }> {
  await buf.mapAsync(GPUMapMode.READ, 0, bytes);
  const raw = buf.getMappedRange(0, bytes).slice(0);
  buf.unmap();
  return { raw, waitMs: performance.now() - t0 };
}

/** A step's results from its mapped readback `raw` (laid out by `plan`). */
export function decodeReadback(raw: ArrayBuffer, plan: ReadbackPlan, step: StepBuffers, C: number, V: number, waitMs: number): StepResult {
  const ids = new Int32Array(step.wanted.length).fill(-1);
  const got = new Uint32Array(raw, plan.dmsFloats * 4, plan.idWords);
  for (let j = 0; j < plan.idWords; j++) if (step.greedy[j]) ids[j] = got[j];
  const candidates = decodeCandidates(raw, plan.dmsFloats + plan.idWords, step.invT, C, V, candidateSumRelErr(V));
  const data = new Float32Array(raw);
  return {
    logits: data.slice(plan.dmsFloats + plan.idWords + plan.candRows * candidateWords(C)),
    ids,
    candidates,
    dms: plan.dmsFloats > 0 ? data.subarray(0, plan.dmsFloats) : null,
    waitMs,
    readbackBytes: raw.byteLength,
  };
}

/** The results of a step that reads nothing back. */
export function emptyResult(step: StepBuffers, waitMs: number): StepResult {
  const ids = new Int32Array(step.wanted.length).fill(-1);
  return { logits: new Float32Array(0), ids, candidates: step.invT.map(() => null), dms: null, waitMs, readbackBytes: 0 };
}

/**
 * Per wanted row, its candidates from a readback (candidate rows start at word `at`, in wanted order
 * of the rows with an invT): ids, logits, the device's sum-exp and its error bound; null for the others.
 */
export function decodeCandidates(raw: ArrayBuffer, at: number, invT: (number | null)[], C: number, V: number, sumRelErr: number): (Candidates | null)[] {
  const W = candidateWords(C);
  let r = 0;
  return invT.map((t) => {
    if (t === null) return null;
    const o = (at + r++ * W) * 4;
    return {
      ids: new Int32Array(raw.slice(o, o + C * 4)),
      logits: new Float32Array(raw.slice(o + C * 4, o + 2 * C * 4)),
      numVocab: V,
      sumExp: new Float32Array(raw, o + (2 * C + 1) * 4, 1)[0],
      sumRelErr,
    };
  });
}

/**
 * Reads wanted rows `rows` (ascending) of the step's logits again, after their candidates failed to
 * decide: a second submit and map on the same readback buffer (the logits stay until the next step).
 */
export async function readLogitRows(
  ctx: GpuContext,
  logits: GPUBuffer,
  dst: GPUBuffer,
  rows: number[],
  V: number,
): Promise<{ logits: Float32Array; waitMs: number }> {
  const enc = ctx.device.createCommandEncoder();
  let at = 0;
  copyRows(rows, (j, count) => {
    enc.copyBufferToBuffer(logits, j * V * 4, dst, at * 4, count * V * 4);
    at += count * V;
  });
  const t0 = performance.now();
  ctx.device.queue.submit([enc.finish()]);
  const { raw, waitMs } = await mapRead(dst, at * 4, t0);
  return { logits: new Float32Array(raw), waitMs };
}

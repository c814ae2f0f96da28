// One webgpu step's host inputs and their upload: the fork page copies become commit ops run before any
// layer, then page-table patches, tokens, rope, wanted and candidate rows, descriptors, tables and commit ops go up.
import type { ListName, ProgramBuffers } from './program-buffers.js';
import { NONE, OP_WORDS, type StepPlan } from './step-plan.js';
import { candidateRows } from './wgsl-top-candidates.js';

/** One step's host inputs. */
export interface StepBuffers {
  tokens: number[];
  /** cos/sin [n, rot] from ropeTables (the same tables the wasm executor uses). */
  rope: { cos: Float32Array; sin: Float32Array; rot: number };
  /** Items whose logits are wanted, in order. */
  wanted: number[];
  /** Per wanted item: only its argmax id comes back (greedy), not its V logits. */
  greedy: boolean[];
  /** Per wanted item: 1/T (f32) when its top candidates come back instead of its V logits, else null. */
  invT: (number | null)[];
  plan: StepPlan;
}

/** A step's commit ops [*, OP_WORDS]: the fork page copies' (`pre`), then every layer's, in one list (`all`). */
export interface StepOps {
  pre: number[];
  all: number[];
}

/** What the recording of an uploaded step needs: its sizes and the op count of every commit. */
export interface StepShape {
  /** n: step tokens; m: wanted rows; candRows: rows answered by their top candidates. */
  n: number;
  m: number;
  candRows: number;
  /** Ops of the fork page copies' commit (before any layer) and of each layer's commit. */
  preOps: number;
  layerOps: number[];
}

/** The step's commit ops, taking the plan's page copies (a buffer cannot copy onto itself, so each slot copy is a commit op). */
export function stepOps(plan: StepPlan, P: number): StepOps {
  const pre: number[] = [];
  for (const c of plan.pageCopies.splice(0)) for (let s = 0; s < P; s++) pre.push(c.to * P + s, 0, c.from * P + s, NONE, 0);
  return { pre, all: pre.concat(plan.ops.flat()) };
}

/** Words each per-step list must hold for this step (ProgramBuffers.fit). */
export function listWords(plan: StepPlan, ops: StepOps, D: number): Record<ListName, number> {
  return { tables: plan.tables.length, ops: ops.all.length, tmp: 2 * (ops.all.length / OP_WORDS) * D, pageTables: plan.numRegions * plan.regionWords };
}

/** Writes the step's inputs into the (fitted) buffers. */
export function uploadStep(q: GPUQueue, b: ProgramBuffers, step: StepBuffers, ops: StepOps): StepShape {
  const n = step.tokens.length;
  const m = step.wanted.length;
  const plan = step.plan;
  const { act, cand, lists } = b;
  for (const p of plan.patches) q.writeBuffer(lists.pageTables, p.offset * 4, Uint32Array.from(p.pages));
  q.writeBuffer(act.stepU, 0, new Uint32Array([n, m, 0, 0]));
  q.writeBuffer(act.tokens, 0, Uint32Array.from(step.tokens));
  const rope = new Float32Array(2 * n * step.rope.rot);
  rope.set(step.rope.cos, 0);
  rope.set(step.rope.sin, n * step.rope.rot);
  q.writeBuffer(act.rope, 0, rope);
  if (m > 0) q.writeBuffer(act.wanted, 0, Uint32Array.from(step.wanted));
  const candRows = candidateRows(step.invT);
  const r = candRows.length / 2;
  if (r > 0) q.writeBuffer(cand.rows, 0, candRows);
  q.writeBuffer(act.desc, 0, plan.desc);
  if (plan.tables.length > 0) q.writeBuffer(lists.tables, 0, Uint32Array.from(plan.tables));
  if (ops.all.length > 0) q.writeBuffer(lists.ops, 0, Uint32Array.from(ops.all));
  // Each commit reads its range [start, count] of the op list: the page copies' first, then layer by layer.
  const preOps = ops.pre.length / OP_WORDS;
  q.writeBuffer(b.commitPreU, 0, new Uint32Array([0, preOps, 0, 0]));
  const layerOps: number[] = [];
  let start = preOps;
  plan.ops.forEach((layer, l) => {
    const count = layer.length / OP_WORDS;
    q.writeBuffer(b.commitU[l], 0, new Uint32Array([start, count, 0, 0]));
    layerOps.push(count);
    start += count;
  });
  return { n, m, candRows: r, preOps, layerOps };
}

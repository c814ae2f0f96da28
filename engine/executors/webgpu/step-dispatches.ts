// What one webgpu step dispatches and in which order: the fork page copies' commit, the embed, per layer
// (norm, qkv, post, attention, commit gather|scatter, o, norm, gate|up, SwiGLU, down), the head (final norm,
// lm head, argmax) and the top candidates; built once per set of buffers, recorded once per step.
import type { ModelConfig } from '../../model/config.js';
import type { DeviceLayer, DeviceMatrix, DeviceWeights } from './device-weights.js';
import type { PipelineCache } from './pipeline-cache.js';
import type { ProgramBuffers } from './program-buffers.js';
import type { StepShape } from './step-upload.js';
import { attentionWgsl, commitWgsl, qkvPostWgsl } from './wgsl-attention.js';
import { argmaxWgsl } from './wgsl-argmax.js';
import { embedWgsl, matmulWgsl, RMSNORM_WGSL, SWIGLU_WGSL } from './wgsl-dense.js';
import { poolEntries } from './wgsl-pool.js';
import { topCandidatesWgsl } from './wgsl-top-candidates.js';

/** One compute dispatch: its workgroup grid for n step tokens and m wanted rows ([0, 0]: sized when recorded). */
export type Dispatch = { pipeline: GPUComputePipeline; group: GPUBindGroup; size: (n: number, m: number) => [number, number] };

/** The commit's two passes over its ops: gather (the sources into tmp), then scatter (tmp into the pools). */
type Commit = [Dispatch, Dispatch];

export interface StepDispatches {
  /** The fork page copies, committed before any layer. */
  preCommit: Commit;
  embed: Dispatch[];
  layers: { before: Dispatch[]; commit: Commit; after: Dispatch[] }[];
  head: Dispatch[];
  /** Top C over the candidate rows; null when C >= V (no row is sent then). */
  candidates: Dispatch | null;
}

/** What building reads: the pipelines, the buffers bound, the model, P, and C candidates per top-k / top-p row. */
export interface DispatchKit {
  pipes: PipelineCache;
  bufs: ProgramBuffers;
  cfg: ModelConfig;
  weights: DeviceWeights;
  pageSize: number;
  numCandidates: number;
}

/**
 * Every bind group of a step over the buffers as they are now (rebuilt when a per-step list grew).
 * Uniforms of an earlier build stay owned by the buffers (freed at dispose): rebuilds are rare (a list buffer doubled).
 */
export function buildDispatches(kit: DispatchKit): StepDispatches {
  const { pipes, bufs, cfg, weights } = kit;
  const a = bufs.act;
  const d = cfg.hiddenSize;
  const V = cfg.vocabSize;
  const f16 = weights.f16;
  const emb = pipes.get(`embed-${f16}`, () => embedWgsl(f16));
  // One dispatch per row block of the table: each writes the rows whose token it holds.
  const embed: Dispatch[] = weights.embed.map((part) => ({
    pipeline: emb,
    group: pipes.bind(emb, { 0: part.buffer, 1: a.tokens, 2: a.x, 3: bufs.uniform([d, part.row0, part.rows]), 4: a.stepU }),
    size: (n) => [Math.ceil((n * d) / 64), 1],
  }));
  const layers = weights.layers.map((w, l) => ({ before: beforeCommit(kit, w, l), commit: commit(kit, bufs.commitU[l]), after: afterCommit(kit, w) }));
  const preCommit = commit(kit, bufs.commitPreU);
  const argmax = pipes.get('argmax', () => argmaxWgsl(V));
  const head: Dispatch[] = [
    rmsnorm(kit, a.x, a.h, true),
    ...matmul(kit, a.h, weights.lmHead, null, a.logits, V, false, true),
    { pipeline: argmax, group: pipes.bind(argmax, { 0: a.logits, 1: a.ids }), size: (_n, m) => [m, 1] },
  ];
  const C = kit.numCandidates;
  let candidates: Dispatch | null = null;
  if (C < V) {
    const top = pipes.get(`top-candidates-${C}`, () => topCandidatesWgsl(V, C));
    candidates = { pipeline: top, group: pipes.bind(top, { 0: a.logits, 1: bufs.cand.rows, 2: bufs.cand.out }), size: () => [0, 0] };
  }
  return { preCommit, embed, layers, head, candidates };
}

/** Records a built step into one compute pass: dispatches with an empty grid are skipped. */
export function recordDispatches(pass: GPUComputePassEncoder, ds: StepDispatches, s: StepShape, D: number): void {
  const { n, m } = s;
  const go = (d: Dispatch) => {
    const [x, y] = d.size(n, m);
    if (x === 0 || y === 0) return;
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.group);
    pass.dispatchWorkgroups(x, y);
  };
  // A commit runs one thread per (op, float of the head dim).
  const commitSize =
    (ops: number): Dispatch['size'] =>
    () => [Math.ceil((ops * D) / 64), 1];
  if (s.preOps > 0) for (const d of ds.preCommit) go({ ...d, size: commitSize(s.preOps) });
  for (const d of ds.embed) go(d);
  ds.layers.forEach((ld, l) => {
    for (const d of ld.before) go(d);
    if (s.layerOps[l] > 0) for (const d of ld.commit) go({ ...d, size: commitSize(s.layerOps[l]) });
    for (const d of ld.after) go(d);
  });
  if (m > 0) for (const d of ds.head) go(d);
  if (s.candRows > 0 && ds.candidates) go({ ...ds.candidates, size: () => [s.candRows, 1] });
}

/** Layer l up to its attention: norm, qkv (+bias), post (q/k norm, RoPE, DMS logit), paged attention. */
function beforeCommit(kit: DispatchKit, w: DeviceLayer, l: number): Dispatch[] {
  const { pipes, bufs, cfg } = kit;
  const { numHeads: H, numKvHeads: K, headDim: D } = cfg;
  const a = bufs.act;
  const dms = cfg.dms;
  const post = pipes.get('qkv-post', () => qkvPostWgsl(cfg));
  const attn = pipes.get('attention', () => attentionWgsl(cfg, kit.pageSize, bufs.layout));
  const postU = bufs.uniform([l, cfg.rmsNormEps, dms?.scale ?? 0, dms?.offset ?? 0], new Set([1, 2, 3]));
  const attnU = bufs.uniform([l, 1 / Math.sqrt(D)], new Set([1]));
  const width = kit.weights.layers[0].qkvd.out;
  return [
    rmsnorm(kit, a.x, a.h, false),
    ...matmul(kit, a.h, w.qkvd, w.qkvBias, a.y, width, false, false),
    {
      pipeline: post,
      group: pipes.bind(post, { 0: a.y, 1: w.norms ?? bufs.dummy, 2: a.rope, 3: a.q, 4: a.ks, 5: a.vs, 6: a.dms, 7: postU, 8: a.stepU }),
      size: (n) => [Math.ceil((n * (H + 2 * K)) / 64), 1],
    },
    {
      pipeline: attn,
      group: pipes.bind(attn, {
        0: a.q,
        ...poolEntries(bufs.kpool, bufs.vpool),
        3: a.ks,
        4: a.vs,
        5: a.desc,
        6: bufs.lists.tables,
        7: a.attn,
        8: attnU,
        9: a.stepU,
        10: a.dms,
        11: bufs.lists.pageTables,
      }),
      size: (n) => [n * K, 1],
    },
  ];
}

/** A commit over the op range in uniform `u`: gather, then scatter (sized when recorded). */
function commit(kit: DispatchKit, u: GPUBuffer): Commit {
  const { pipes, bufs, cfg } = kit;
  const a = bufs.act;
  const { tmp, ops } = bufs.lists;
  const pools = poolEntries(bufs.kpool, bufs.vpool);
  const gather = pipes.get('commit-gather', () => commitWgsl(cfg, 'gather', bufs.layout));
  const scatter = pipes.get('commit-scatter', () => commitWgsl(cfg, 'scatter', bufs.layout));
  return [
    { pipeline: gather, group: pipes.bind(gather, { ...pools, 2: tmp, 3: ops, 4: a.ks, 5: a.vs, 6: u }), size: () => [0, 0] },
    { pipeline: scatter, group: pipes.bind(scatter, { ...pools, 2: tmp, 3: ops, 6: u, 7: a.dms }), size: () => [0, 0] },
  ];
}

/** Layer l after its commit: o (+bias) into the residual, norm, gate|up, SwiGLU, down into the residual. */
function afterCommit(kit: DispatchKit, w: DeviceLayer): Dispatch[] {
  const { pipes, bufs, cfg } = kit;
  const { hiddenSize: d, intermediateSize: I } = cfg;
  const a = bufs.act;
  const swiglu = pipes.get('swiglu', () => SWIGLU_WGSL);
  return [
    ...matmul(kit, a.attn, w.o, w.oBias, a.x, d, true, false),
    rmsnorm(kit, a.x, a.h, false),
    ...matmul(kit, a.h, w.gateUp, null, a.gu, 2 * I, false, false),
    {
      pipeline: swiglu,
      group: pipes.bind(swiglu, { 0: a.gu, 1: a.act, 2: bufs.uniform([I]), 3: a.stepU }),
      size: (n) => [Math.ceil((n * I) / 64), 1],
    },
    ...matmul(kit, a.act, w.down, null, a.x, d, true, false),
  ];
}

/** matmul dispatches of a[rows, kin] @ w (each column block) into out (ldo columns), optionally accumulating. */
function matmul(
  kit: DispatchKit,
  a: GPUBuffer,
  w: DeviceMatrix,
  bias: GPUBuffer | null,
  out: GPUBuffer,
  ldo: number,
  accumulate: boolean,
  rowsFromM: boolean,
): Dispatch[] {
  const { pipes, bufs } = kit;
  const f16 = kit.weights.f16;
  const p = pipes.get(`matmul-${f16}`, () => matmulWgsl(f16));
  return w.parts.map((part) => {
    const u = bufs.uniform([rowsFromM ? 1 : 0, w.kin, part.cols, ldo, part.col0, accumulate ? 1 : 0, bias ? 1 : 0, w.kin]);
    const group = pipes.bind(p, { 0: a, 1: part.buffer, 2: bias ?? bufs.dummy, 3: out, 4: u, 5: bufs.act.stepU });
    return { pipeline: p, group, size: (n, m) => [Math.ceil(part.cols / 16), Math.ceil((rowsFromM ? m : n) / 16)] };
  });
}

/** RMSNorm of src into dst; with `map`, only the wanted rows (row j <- wanted[j]). */
function rmsnorm(kit: DispatchKit, src: GPUBuffer, dst: GPUBuffer, map: boolean): Dispatch {
  const { pipes, bufs, cfg } = kit;
  const p = pipes.get('rmsnorm', () => RMSNORM_WGSL);
  const u = bufs.uniform([cfg.hiddenSize, cfg.rmsNormEps, map ? 1 : 0, map ? 1 : 0], new Set([1]));
  const group = pipes.bind(p, { 0: src, 1: dst, 2: map ? bufs.act.wanted : bufs.dummy, 3: u });
  return { pipeline: p, group, size: (n, m) => [map ? m : n, 1] };
}

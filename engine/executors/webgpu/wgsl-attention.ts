// WGSL for the attention half of a layer: q/k/v post-processing (q/k norm, DMS logit, neuron zeroing,
// RoPE), paged attention over each row's compacted slots (each slot read once per KV group), and the commit.
import type { ModelConfig } from '../../model/config.js';
import { rotaryDims } from '../../model/config.js';
import { STEP_STRUCT } from './wgsl-dense.js';
import { type PoolLayout, poolWgsl } from './wgsl-pool.js';

/** Attention workgroup width: slots scored per tile. */
export const TILE = 64;
/** u32 per attention descriptor: device page-table offset, old length, excluded offset/count, staged offset/count, in-step slot, its DMS logit index. */
export const DESC_WORDS = 8;
/** Bit of a slot location that says "this step's staging", not the page pool. */
const STAGED = '0x80000000u';

/**
 * One invocation per (token i, head) of the [n, (H+2K)*D (+K)] projection (bias already added):
 * q[n,H,D], staged k/v [n,K,D] and the DMS logits dms[layer, n, K] (scale * s - offset), as qkv-post.ts.
 */
export function qkvPostWgsl(cfg: ModelConfig): string {
  const { numHeads: H, numKvHeads: K, headDim: D } = cfg;
  const mode = cfg.dms?.mode === 'adapter' ? 1 : cfg.dms?.mode === 'neuron' ? 2 : 0;
  const qkv = (H + 2 * K) * D;
  const width = qkv + (mode === 1 ? K : 0);
  const rot = rotaryDims(cfg);
  return `
${STEP_STRUCT}
const H = ${H}u; const K = ${K}u; const D = ${D}u; const G = ${H / K}u; const ROT = ${rot}u;
const QKV = ${qkv}u; const WIDTH = ${width}u; const MODE = ${mode}u; const QKNORM = ${cfg.qkNorm ? 1 : 0}u;
struct Params { layer: u32, eps: f32, scale: f32, offset: f32 }
@group(0) @binding(0) var<storage, read> y: array<f32>;
@group(0) @binding(1) var<storage, read> norms: array<f32>;
@group(0) @binding(2) var<storage, read> rope: array<f32>;
@group(0) @binding(3) var<storage, read_write> q: array<f32>;
@group(0) @binding(4) var<storage, read_write> ks: array<f32>;
@group(0) @binding(5) var<storage, read_write> vs: array<f32>;
@group(0) @binding(6) var<storage, read_write> dms: array<f32>;
@group(0) @binding(7) var<uniform> p: Params;
@group(0) @binding(8) var<uniform> s: Step;
fn headNorm(t: ptr<function, array<f32, ${D}>>, wOff: u32) {
  var ss = 0.0;
  for (var j = 0u; j < D; j++) { ss += (*t)[j] * (*t)[j]; }
  let inv = 1.0 / sqrt(ss / f32(D) + p.eps);
  for (var j = 0u; j < D; j++) { (*t)[j] = (*t)[j] * inv * norms[wOff + j]; }
}
fn rotate(t: ptr<function, array<f32, ${D}>>, i: u32) {
  // rope = [cos | sin], each [n, ROT] (HF rotate_half on the first ROT dims).
  let half = ROT / 2u;
  let c = i * ROT;
  let sn = s.n * ROT + i * ROT;
  for (var j = 0u; j < half; j++) {
    let x1 = (*t)[j];
    let x2 = (*t)[j + half];
    (*t)[j] = x1 * rope[c + j] - x2 * rope[sn + j];
    (*t)[j + half] = x2 * rope[c + j + half] + x1 * rope[sn + j + half];
  }
}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let e = gid.x;
  if (e >= s.n * (H + 2u * K)) { return; }
  let i = e / (H + 2u * K);
  let hh = e % (H + 2u * K);
  var t: array<f32, ${D}>;
  for (var j = 0u; j < D; j++) { t[j] = y[i * WIDTH + hh * D + j]; }
  if (hh < H) {
    if (QKNORM == 1u) { headNorm(&t, 0u); }
    let first = MODE == 2u && hh % G == 0u;
    if (first) {
      dms[(p.layer * s.n + i) * K + hh / G] = t[D - 1u] * p.scale - p.offset;
      t[D - 1u] = 0.0;
    }
    rotate(&t, i);
    if (first) { t[D - 1u] = 0.0; }
    for (var j = 0u; j < D; j++) { q[(i * H + hh) * D + j] = t[j]; }
  } else if (hh < H + K) {
    let kh = hh - H;
    if (QKNORM == 1u) { headNorm(&t, D); }
    rotate(&t, i);
    for (var j = 0u; j < D; j++) { ks[(i * K + kh) * D + j] = t[j]; }
    if (MODE == 1u) { dms[(p.layer * s.n + i) * K + kh] = y[i * WIDTH + QKV + kh] * p.scale - p.offset; }
  } else {
    let vh = hh - H - K;
    for (var j = 0u; j < D; j++) { vs[(i * K + vh) * D + j] = t[j]; }
  }
}`;
}

/**
 * One workgroup per (token i, KV head h): the group's G queries over the row's slots as they were at
 * the start of the step (minus the slots this step's earlier tokens replaced) plus this step's staged
 * tokens the row holds by token i. Online softmax over tiles of TILE slots; each slot is read once.
 */
export function attentionWgsl(cfg: ModelConfig, pageSize: number, pool: PoolLayout): string {
  const { numHeads: H, numKvHeads: K, headDim: D } = cfg;
  const G = H / K;
  return `
${STEP_STRUCT}
const H = ${H}u; const K = ${K}u; const D = ${D}u; const G = ${G}u; const P = ${pageSize}u; const T = ${TILE}u;
struct Params { layer: u32, scale: f32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<storage, read> q: array<f32>;
${poolWgsl(pool, D, false)}
@group(0) @binding(3) var<storage, read> ks: array<f32>;
@group(0) @binding(4) var<storage, read> vs: array<f32>;
@group(0) @binding(5) var<storage, read> desc: array<u32>;
@group(0) @binding(6) var<storage, read> tables: array<u32>;
@group(0) @binding(7) var<storage, read_write> out: array<f32>;
@group(0) @binding(8) var<uniform> p: Params;
@group(0) @binding(9) var<uniform> s: Step;
@group(0) @binding(10) var<storage, read> dms: array<f32>;
@group(0) @binding(11) var<storage, read> pageTables: array<u32>;
var<workgroup> qs: array<f32, ${G * D}>;
var<workgroup> acc: array<f32, ${G * D}>;
var<workgroup> sc: array<f32, ${G * TILE}>;
var<workgroup> loc: array<u32, ${TILE}>;
var<workgroup> ok: array<u32, ${TILE}>;
var<workgroup> mrun: array<f32, ${G}>;
var<workgroup> lrun: array<f32, ${G}>;
var<workgroup> corr: array<f32, ${G}>;
var<workgroup> count: u32;
@compute @workgroup_size(${TILE})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let i = wg.x / K;
  let h = wg.x % K;
  let t = lid.x;
  let di = ((p.layer * s.n + i) * K + h) * ${DESC_WORDS}u;
  let ptOff = desc[di];
  let oldLen = desc[di + 1u];
  let exOff = desc[di + 2u];
  let exCnt = desc[di + 3u];
  let stOff = desc[di + 4u];
  let stCnt = desc[di + 5u];
  // dms-w0: this layer's own logit of the token flags its predecessor, whose slot the token takes.
  var skip = 0xffffffffu;
  if (desc[di + 6u] != 0xffffffffu && dms[desc[di + 7u]] > 0.0) { skip = desc[di + 6u]; }
  let q0 = (i * H + h * G) * D;
  for (var e = t; e < G * D; e += T) { qs[e] = q[q0 + e]; acc[e] = 0.0; }
  if (t < G) { mrun[t] = -3.0e38; lrun[t] = 0.0; }
  if (t == 0u) { count = oldLen + stCnt; }
  let nv = workgroupUniformLoad(&count);
  for (var base = 0u; base < nv; base += T) {
    let v = base + t;
    var valid = v < nv;
    var at = 0u;
    if (v < oldLen) {
      for (var x = 0u; x < exCnt; x++) { if (tables[exOff + x] == v) { valid = false; } }
      if (v == skip) { valid = false; }
      at = pageTables[ptOff + v / P] * P + v % P;
    } else if (valid) {
      at = (tables[stOff + v - oldLen] * D) | ${STAGED};
    }
    loc[t] = at;
    ok[t] = select(0u, 1u, valid);
    for (var g = 0u; g < G; g++) {
      var dot = 0.0;
      if (valid) {
        let off = at & 0x7fffffffu;
        if ((at & ${STAGED}) != 0u) { for (var d = 0u; d < D; d++) { dot += qs[g * D + d] * ks[off + d]; } }
        else { for (var d = 0u; d < D; d++) { dot += qs[g * D + d] * kLoad(off, d); } }
      }
      sc[g * T + t] = dot * p.scale;
    }
    workgroupBarrier();
    if (t < G) {
      var mx = mrun[t];
      for (var u = 0u; u < T; u++) { if (ok[u] == 1u) { mx = max(mx, sc[t * T + u]); } }
      let c = exp(mrun[t] - mx);
      var sum = 0.0;
      for (var u = 0u; u < T; u++) { if (ok[u] == 1u) { sum += exp(sc[t * T + u] - mx); } }
      lrun[t] = lrun[t] * c + sum;
      mrun[t] = mx;
      corr[t] = c;
    }
    workgroupBarrier();
    for (var g = 0u; g < G; g++) { sc[g * T + t] = select(0.0, exp(sc[g * T + t] - mrun[g]), ok[t] == 1u); }
    workgroupBarrier();
    for (var e = t; e < G * D; e += T) {
      let g = e / D;
      let d = e % D;
      var a = acc[e] * corr[g];
      for (var u = 0u; u < T; u++) {
        if (ok[u] == 1u) {
          let off = loc[u] & 0x7fffffffu;
          var val: f32;
          if ((loc[u] & ${STAGED}) != 0u) { val = vs[off + d]; } else { val = vLoad(off, d); }
          a += sc[g * T + u] * val;
        }
      }
      acc[e] = a;
    }
    workgroupBarrier();
  }
  for (var e = t; e < G * D; e += T) { out[q0 + e] = acc[e] / lrun[e / D]; }
}`;
}

/**
 * The commit of one layer's slot writes, in two passes so that a source is read before any
 * destination is written: gather (sources -> tmp) then scatter (tmp -> destinations).
 * ops: [dst pool slot, source kind (0 pool slot, 1 staged float offset), source, alternative dst slot,
 * DMS logit index] per op; the alternative (dms-w0: the predecessor's slot) is taken when that logit > 0.
 */
export function commitWgsl(cfg: ModelConfig, phase: 'gather' | 'scatter', pool: PoolLayout): string {
  const D = cfg.headDim;
  const gather = phase === 'gather';
  return `
struct Params { start: u32, count: u32, pad0: u32, pad1: u32 }
const D = ${D}u;
${poolWgsl(pool, D, !gather)}
@group(0) @binding(2) var<storage, ${gather ? 'read_write' : 'read'}> tmp: array<f32>;
@group(0) @binding(3) var<storage, read> ops: array<u32>;
${gather ? '@group(0) @binding(4) var<storage, read> ks: array<f32>;\n@group(0) @binding(5) var<storage, read> vs: array<f32>;' : ''}
@group(0) @binding(6) var<uniform> p: Params;
${gather ? '' : '@group(0) @binding(7) var<storage, read> dms: array<f32>;'}
const W = 5u;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let e = gid.x;
  if (e >= p.count * D) { return; }
  let o = p.start + e / D;
  let d = e % D;
  // tmp holds the keys of every op of the step, then their values.
  let vBase = arrayLength(&tmp) / 2u;
  ${
    gather
      ? `let src = ops[o * W + 2u];
  if (ops[o * W + 1u] == 1u) { tmp[o * D + d] = ks[src + d]; tmp[vBase + o * D + d] = vs[src + d]; }
  else { tmp[o * D + d] = kLoad(src, d); tmp[vBase + o * D + d] = vLoad(src, d); }`
      : `var dst = ops[o * W];
  if (ops[o * W + 3u] != 0xffffffffu && dms[ops[o * W + 4u]] > 0.0) { dst = ops[o * W + 3u]; }
  kStore(dst, d, tmp[o * D + d]);
  vStore(dst, d, tmp[vBase + o * D + d]);`
  }
}`;
}

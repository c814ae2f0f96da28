// WGSL for the dense half of a layer over the whole step's tokens: tiled matmul (f32 or f16 weights,
// f32 accumulation) with bias and residual add, RMSNorm (optionally over gathered rows), embedding, SwiGLU.

/** The per-step sizes every kernel reads: n tokens in the step, m rows whose logits are wanted. */
export const STEP_STRUCT = 'struct Step { n: u32, m: u32, pad0: u32, pad1: u32 }';

/**
 * out[r, col0 + c] (+)= a[r, :] @ w[:, c] (+ bias[col0 + c]) for r < rows (n or m), c < nout.
 * w is one column block [kin, nout] of a weight split across buffers (col0 its first column).
 */
export function matmulWgsl(f16: boolean): string {
  const wt = f16 ? 'f16' : 'f32';
  return `${f16 ? 'enable f16;' : ''}
${STEP_STRUCT}
struct Params { rowsFromM: u32, kin: u32, nout: u32, ldo: u32, col0: u32, accumulate: u32, hasBias: u32, lda: u32 }
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<${wt}>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> o: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;
@group(0) @binding(5) var<uniform> s: Step;
var<workgroup> ta: array<f32, 256>;
var<workgroup> tw: array<f32, 256>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let rows = select(s.n, s.m, p.rowsFromM == 1u);
  let r = wg.y * 16u + lid.y;
  let c = wg.x * 16u + lid.x;
  var acc = 0.0;
  for (var k0 = 0u; k0 < p.kin; k0 += 16u) {
    let ka = k0 + lid.x;
    var av = 0.0;
    if (r < rows && ka < p.kin) { av = a[r * p.lda + ka]; }
    ta[lid.y * 16u + lid.x] = av;
    let kw = k0 + lid.y;
    var wv = 0.0;
    if (kw < p.kin && c < p.nout) { wv = f32(w[kw * p.nout + c]); }
    tw[lid.y * 16u + lid.x] = wv;
    workgroupBarrier();
    for (var k = 0u; k < 16u; k++) { acc += ta[lid.y * 16u + k] * tw[k * 16u + lid.x]; }
    workgroupBarrier();
  }
  if (r < rows && c < p.nout) {
    let at = r * p.ldo + p.col0 + c;
    var v = acc;
    if (p.accumulate == 1u) { v = o[at] + v; }
    if (p.hasBias == 1u) { v += bias[p.col0 + c]; }
    o[at] = v;
  }
}`;
}

/** dst[r, :] = src[map ? map[r] : r, :] * rsqrt(mean(x^2) + eps): the norm weight is folded into the next matrix. */
export const RMSNORM_WGSL = `
struct Params { d: u32, eps: f32, useMap: u32, rowsFromM: u32 }
@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<storage, read> rowMap: array<u32>;
@group(0) @binding(3) var<uniform> p: Params;
var<workgroup> part: array<f32, 64>;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let r = wg.x;
  var sr = r;
  if (p.useMap == 1u) { sr = rowMap[r]; }
  var ss = 0.0;
  for (var i = lid.x; i < p.d; i += 64u) { let v = src[sr * p.d + i]; ss += v * v; }
  part[lid.x] = ss;
  workgroupBarrier();
  for (var w = 32u; w > 0u; w = w / 2u) {
    if (lid.x < w) { part[lid.x] += part[lid.x + w]; }
    workgroupBarrier();
  }
  let inv = 1.0 / sqrt(part[0] / f32(p.d) + p.eps);
  for (var i = lid.x; i < p.d; i += 64u) { dst[r * p.d + i] = src[sr * p.d + i] * inv; }
}`;

/** x[i, :] = embed[tokens[i], :] for the tokens in this part's rows [row0, row0 + rows) of the [V, d] table (f32 or f16). */
export function embedWgsl(f16: boolean): string {
  return `${f16 ? 'enable f16;' : ''}
${STEP_STRUCT}
struct Params { d: u32, row0: u32, rows: u32, pad0: u32 }
@group(0) @binding(0) var<storage, read> table: array<${f16 ? 'f16' : 'f32'}>;
@group(0) @binding(1) var<storage, read> tokens: array<u32>;
@group(0) @binding(2) var<storage, read_write> x: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;
@group(0) @binding(4) var<uniform> s: Step;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let e = gid.x;
  if (e >= s.n * p.d) { return; }
  let i = e / p.d;
  let j = e % p.d;
  let t = tokens[i];
  if (t < p.row0 || t >= p.row0 + p.rows) { return; }
  x[e] = f32(table[(t - p.row0) * p.d + j]);
}`;
}

/** act[i, j] = silu(gu[i, j]) * gu[i, I + j] for the [n, 2I] gate|up product. */
export const SWIGLU_WGSL = `
${STEP_STRUCT}
struct Params { inner: u32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<storage, read> gu: array<f32>;
@group(0) @binding(1) var<storage, read_write> act: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;
@group(0) @binding(3) var<uniform> s: Step;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let e = gid.x;
  if (e >= s.n * p.inner) { return; }
  let i = e / p.inner;
  let j = e % p.inner;
  let g = gu[i * 2u * p.inner + j];
  act[e] = (g / (1.0 + exp(-g))) * gu[i * 2u * p.inner + p.inner + j];
}`;

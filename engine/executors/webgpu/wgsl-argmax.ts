// The greedy sampler on the device: the argmax of each wanted row's logits, so that a greedy row
// reads back one u32 instead of V floats (32.8 MB per step at batch 64 on a 128K vocabulary).

/** Threads per row: each scans a strided share of the vocabulary, then a tree reduction. */
const WG = 256;

/**
 * One workgroup per wanted row j of logits [m, V]: ids[j] = the lowest index of the row's maximum,
 * NaN never wins and an all -inf / NaN row gives 0, exactly the host sampler's argmax.
 */
export function argmaxWgsl(V: number): string {
  return `
const V = ${V}u; const WG = ${WG}u;
@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read_write> ids: array<u32>;
var<workgroup> bestV: array<f32, ${WG}>;
var<workgroup> bestI: array<u32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let j = wg.x;
  let t = lid.x;
  var mv = bitcast<f32>(0xff7fffffu); // -FLT_MAX: WGSL has no -inf literal
  var mi = V;
  // Ascending v within a thread with a strict >: the thread keeps the lowest index of its maximum.
  for (var v = t; v < V; v += WG) {
    let x = logits[j * V + v];
    if (x > mv || (mi == V && x == mv)) { mv = x; mi = v; }
  }
  bestV[t] = mv;
  bestI[t] = mi;
  workgroupBarrier();
  for (var w = WG / 2u; w > 0u; w /= 2u) {
    if (t < w) {
      let ov = bestV[t + w];
      let oi = bestI[t + w];
      if (oi != V && (bestI[t] == V || ov > bestV[t] || (ov == bestV[t] && oi < bestI[t]))) { bestV[t] = ov; bestI[t] = oi; }
    }
    workgroupBarrier();
  }
  if (t == 0u) { ids[j] = select(bestI[0], 0u, bestI[0] == V); }
}`;
}

// The top-k / top-p sampler's device half: per sampled row, the C largest logits in sampleToken's
// order (logit descending, then id ascending) and the row's sum of exp((l - max) / T), so that such a
// row reads back 2C + 2 words instead of V floats; the host draws from them (runtime/candidate-sampler.ts).

/** Threads per row; also the radix (8-bit digits, one histogram bin per thread). */
const WG = 256;
/** Most candidates the kernel selects per row (its workgroup arrays); the executor's default is 64. */
export const MAX_CANDIDATES = 128;

/** u32 words per row in the output: C ids, C logits (f32 bits), the row max, the sum-exp. */
export const candidateWords = (C: number) => 2 * C + 2;

/** The kernel's row list: [wanted row j, bits of 1/T] for each row with an invT, in order. */
export function candidateRows(invT: (number | null)[]): Uint32Array {
  const rows = invT.flatMap((t, j) => (t === null ? [] : [j, t]));
  const words = new Uint32Array(rows.length);
  const floats = new Float32Array(words.buffer);
  for (let i = 0; i < rows.length; i += 2) {
    words[i] = rows[i];
    floats[i + 1] = rows[i + 1];
  }
  return words;
}

/**
 * A bound on the relative error of the kernel's sum-exp against the exact sum, from the WGSL accuracy
 * rules: exp within 3 + 2|x| ULP (ULP <= 2^-23 of the value) for the terms that stay normal (|x| < 88);
 * x = (l - max) * (1/T) rounded three times in f32 (the difference, 1/T, the product), so exp(x) is off
 * by |x| * 3 * 2^-24 more; the strided per-thread sums (ceil(V / 256) terms) then a 256-wide tree each
 * round once per add; terms below 2^-126 (flushed, or skipped past x < -104) are < V * 2^-125 in all,
 * and the sum is >= 1 (the max term is exp(0)). Doubled as a margin over the rules.
 */
export function candidateSumRelErr(V: number): number {
  const u = 2 ** -24;
  const exp = (3 + 2 * 88) * 2 * u;
  const arg = 88 * 4 * u;
  const adds = (Math.ceil(V / WG) + Math.log2(WG) + 2) * u * 1.001;
  return 2 * (exp + arg + adds + V * 2 ** -125);
}

/**
 * One workgroup per candidate row r: reads logits row rows[2r] of [m, V] and 1/T = bitcast(rows[2r+1]);
 * writes out[r * (2C + 2) ..]: ids [C], logits [C] (f32 bits), max, sum over v of exp((l_v - max) / T).
 * Selection is a radix select (8-bit digits, most significant first) on a unique 56-bit key: the
 * order-preserving u32 of the logit (-0 as +0, as the host sort sees them), then 2^24 - 1 - id (so
 * that the lower id ranks first). Each pass histograms the next digit of the ids still tied with the
 * threshold prefix and keeps the bin where the count of larger keys crosses C; it stops when that bin
 * holds exactly the ids still needed (at most 7 passes; usually 2-4). A last pass gathers the C keys
 * at or above the threshold and sums the exps; a rank sort orders them. Needs V > C, V < 2^24, no NaN.
 */
export function topCandidatesWgsl(V: number, C: number): string {
  if (!(C >= 1 && C <= MAX_CANDIDATES && C < V && V < 2 ** 24))
    throw new Error(`topCandidatesWgsl: needs 1 <= C <= ${MAX_CANDIDATES}, C < V < 2^24 (C ${C}, V ${V})`);
  return `
const V = ${V}u; const C = ${C}u; const WG = ${WG}u; const W = ${candidateWords(C)}u;
@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> rows: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
var<workgroup> hist: array<atomic<u32>, ${WG}>;
var<workgroup> suffix: array<u32, ${WG + 1}>;
var<workgroup> maxKey: atomic<u32>;
var<workgroup> count: atomic<u32>;
var<workgroup> pick: u32;
var<workgroup> ckey: array<u32, ${C}>;
var<workgroup> cid: array<u32, ${C}>;
var<workgroup> cval: array<u32, ${C}>;
var<workgroup> part: array<f32, ${WG}>;

// Larger float, larger key; -0 and +0 are one key.
fn keyOf(x: f32) -> u32 {
  var b = bitcast<u32>(x);
  if (b == 0x80000000u) { b = 0u; }
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}
fn valueOf(k: u32) -> f32 { return bitcast<f32>(select(~k, k ^ 0x80000000u, (k & 0x80000000u) != 0u)); }
// Digit 0..3: the key's bytes, 4..6: the inverted id's, most significant first.
fn digit(k: u32, inv: u32, level: u32) -> u32 {
  if (level < 4u) { return (k >> (24u - 8u * level)) & 255u; }
  return (inv >> (16u - 8u * (level - 4u))) & 255u;
}
// Whether the first 'level' digits equal the prefix (pk: the key's chosen bytes, pi: the id's).
fn tied(k: u32, inv: u32, level: u32, pk: u32, pi: u32) -> bool {
  if (level == 0u) { return true; }
  if (level <= 4u) { return (k >> (32u - 8u * level)) == pk; }
  return k == pk && (inv >> (24u - 8u * (level - 4u))) == pi;
}
// Whether the first 'level' digits are at or above the prefix: the selected set.
fn taken(k: u32, inv: u32, level: u32, pk: u32, pi: u32) -> bool {
  if (level <= 4u) { return (k >> (32u - 8u * level)) >= pk; }
  return k > pk || (k == pk && (inv >> (24u - 8u * (level - 4u))) >= pi);
}

@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let r = wg.x;
  let t = lid.x;
  let base = rows[2u * r] * V;
  let invT = bitcast<f32>(rows[2u * r + 1u]);
  if (t == 0u) { atomicStore(&maxKey, 0u); atomicStore(&count, 0u); }
  var pk = 0u;
  var pi = 0u;
  var need = C;
  var level = 0u;
  loop {
    atomicStore(&hist[t], 0u);
    workgroupBarrier();
    var mk = 0u;
    for (var v = t; v < V; v += WG) {
      let k = keyOf(logits[base + v]);
      let inv = 0xffffffu - v;
      mk = max(mk, k);
      if (tied(k, inv, level, pk, pi)) { atomicAdd(&hist[digit(k, inv, level)], 1u); }
    }
    if (level == 0u) { atomicMax(&maxKey, mk); }
    workgroupBarrier();
    suffix[t] = atomicLoad(&hist[t]);
    if (t == 0u) { suffix[WG] = 0u; }
    workgroupBarrier();
    // suffix[b] = ids tied so far whose digit is >= b.
    for (var off = 1u; off < WG; off *= 2u) {
      var add = 0u;
      if (t + off < WG) { add = suffix[t + off]; }
      workgroupBarrier();
      suffix[t] += add;
      workgroupBarrier();
    }
    // Exactly one bin b has suffix[b] >= need > suffix[b + 1]: everything above it is in, b is the threshold digit.
    if (suffix[t] >= need && suffix[t + 1u] < need) {
      let rest = need - suffix[t + 1u];
      pick = t | (rest << 8u) | (select(0u, 1u, suffix[t] - suffix[t + 1u] == rest) << 16u);
    }
    let w = workgroupUniformLoad(&pick);
    let b = w & 255u;
    need = (w >> 8u) & 255u;
    if (level < 4u) { pk = (pk << 8u) | b; } else { pi = (pi << 8u) | b; }
    level += 1u;
    // The threshold bin holds exactly the ids still needed (after 7 digits it holds one id).
    if ((w >> 16u) == 1u || level == 7u) { break; }
  }
  let mx = valueOf(atomicLoad(&maxKey));
  var s = 0.0;
  for (var v = t; v < V; v += WG) {
    let x = logits[base + v];
    let k = keyOf(x);
    if (taken(k, 0xffffffu - v, level, pk, pi)) {
      let slot = atomicAdd(&count, 1u);
      if (slot < C) { ckey[slot] = k; cid[slot] = v; cval[slot] = bitcast<u32>(x); }
    }
    let d = (x - mx) * invT;
    if (d > -104.0) { s += exp(d); }
  }
  part[t] = s;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h /= 2u) {
    if (t < h) { part[t] += part[t + h]; }
    workgroupBarrier();
  }
  let o = r * W;
  if (t < C) {
    // Rank sort: the keys are unique with the id, so every rank is taken once.
    var rank = 0u;
    for (var j = 0u; j < C; j++) {
      if (ckey[j] > ckey[t] || (ckey[j] == ckey[t] && cid[j] < cid[t])) { rank += 1u; }
    }
    out[o + rank] = cid[t];
    out[o + C + rank] = cval[t];
  }
  if (t == 0u) {
    out[o + 2u * C] = bitcast<u32>(mx);
    out[o + 2u * C + 1u] = bitcast<u32>(part[0]);
  }
}`;
}

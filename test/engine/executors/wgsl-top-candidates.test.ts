// The top-candidates kernel alone on the device: random rows with planted ties, -inf, -0 and huge
// values, V in {258, 4099, 152064} and C in {1, 5, 64}, against a host sort in sampleToken's order:
// the same ids and logit bits, and a sum-exp within a quarter of the error bound the host relies on.
import { describe, expect, it } from 'vitest';
import { gpuContext } from '../../../engine/executors/webgpu/gpu-context.js';
import { candidateSumRelErr, candidateWords, topCandidatesWgsl } from '../../../engine/executors/webgpu/wgsl-top-candidates.js';

const ctx = await gpuContext();

/** Deterministic normal-ish values (sum of uniforms). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Test rows of one V: plain, ties at the top and around the C-th place, -inf / -0 / huge values. */
function makeRows(V: number, seed: number): Float32Array[] {
  const u = rng(seed);
  const normal = () => (u() + u() + u() + u() - 2) * 3;
  const plain = Float32Array.from({ length: V }, normal);
  // Few distinct values: every threshold falls inside a long run of ties.
  const coarse = Float32Array.from({ length: V }, () => Math.round(normal()));
  // The maximum shared by many ids, then a second plateau.
  const plateau = Float32Array.from({ length: V }, (_, v) => (v % 7 === 3 ? 5 : v % 11 === 2 ? 4.5 : normal()));
  const special = Float32Array.from({ length: V }, normal);
  for (let v = 0; v < V; v += 13) special[v] = Number.NEGATIVE_INFINITY;
  for (let v = 5; v < V; v += 17) special[v] = v % 2 === 0 ? -0 : 0;
  special[V - 1] = 3e38;
  special[V >> 1] = 3e38;
  special[3] = -3e38;
  special[7] = 1e30;
  // Mostly -inf: fewer finite values than C in some rows.
  const sparse = new Float32Array(V).fill(Number.NEGATIVE_INFINITY);
  for (let v = 1; v < V; v += Math.max(1, Math.floor(V / 3))) sparse[v] = normal();
  const tiny = Float32Array.from({ length: V }, () => normal() * 1e-30);
  return [plain, coarse, plateau, special, sparse, tiny];
}

/** The host reference: sampleToken's sort, the first C, and the float64 sum-exp. */
function reference(row: Float32Array, C: number, T: number): { ids: number[]; bits: number[]; max: number; sum: number } {
  const ids = Array.from({ length: row.length }, (_, v) => v);
  ids.sort((a, b) => row[b] - row[a] || a - b);
  const top = ids.slice(0, C);
  const max = row[ids[0]];
  let sum = 0;
  for (let v = 0; v < row.length; v++) sum += Math.exp((row[v] - max) / T);
  return { ids: top, bits: Array.from(new Uint32Array(Float32Array.from(top.map((v) => row[v])).buffer)), max, sum };
}

async function runKernel(V: number, C: number, rows: Float32Array[], temps: number[]): Promise<Uint32Array> {
  const device = ctx!.device;
  device.pushErrorScope('validation');
  const pipeline = device.createComputePipeline({
    layout: 'auto',
    compute: { module: device.createShaderModule({ code: topCandidatesWgsl(V, C) }), entryPoint: 'main' },
  });
  const logits = ctx!.createBuffer({ size: rows.length * V * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  const params = ctx!.createBuffer({ size: rows.length * 8, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  const words = candidateWords(C) * rows.length;
  const out = ctx!.createBuffer({ size: words * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const back = ctx!.createBuffer({ size: words * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const all = new Float32Array(rows.length * V);
  for (const [j, r] of rows.entries()) all.set(r, j * V);
  device.queue.writeBuffer(logits, 0, all);
  // Row r of the output reads logits row rows.length - 1 - r (the kernel follows the row list).
  const p = new Uint32Array(rows.length * 2);
  const f = new Float32Array(p.buffer);
  for (let r = 0; r < rows.length; r++) {
    p[2 * r] = rows.length - 1 - r;
    f[2 * r + 1] = 1 / temps[r];
  }
  device.queue.writeBuffer(params, 0, p);
  const group = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [logits, params, out].map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, group);
  pass.dispatchWorkgroups(rows.length);
  pass.end();
  enc.copyBufferToBuffer(out, 0, back, 0, words * 4);
  device.queue.submit([enc.finish()]);
  expect(await device.popErrorScope()).toBeNull();
  await back.mapAsync(GPUMapMode.READ);
  const got = new Uint32Array(back.getMappedRange().slice(0));
  back.unmap();
  for (const b of [logits, params, out, back]) ctx!.destroyBuffer(b);
  return got;
}

describe.skipIf(!ctx)('top-candidates kernel (webgpu)', () => {
  let worst = 0;
  for (const V of [258, 4099, 152064]) {
    for (const C of [1, 5, 64]) {
      it(`V=${V} C=${C}: ids and logits in sampleToken's order, sum-exp within the bound`, async () => {
        const live = ctx!.liveBuffers();
        const rows = makeRows(V, V * 31 + C);
        const temps = rows.map((_, r) => [0.7, 1, 1.3, 0.05, 2][r % 5]);
        const got = await runKernel(V, C, rows, temps);
        const W = candidateWords(C);
        const bound = candidateSumRelErr(V);
        for (let r = 0; r < rows.length; r++) {
          const row = rows[rows.length - 1 - r];
          const want = reference(row, C, temps[r]);
          expect(Array.from(got.subarray(r * W, r * W + C)), `row ${r}`).toEqual(want.ids);
          expect(Array.from(got.subarray(r * W + C, r * W + 2 * C)), `row ${r}`).toEqual(want.bits);
          const f = new Float32Array(got.buffer, (r * W + 2 * C) * 4, 2);
          expect(f[0]).toBe(want.max);
          if (Number.isFinite(want.max)) {
            const rel = Math.abs(f[1] - want.sum) / want.sum;
            worst = Math.max(worst, rel / bound);
            expect(rel, `row ${r} sum ${f[1]} vs ${want.sum}`).toBeLessThan(bound / 4);
          }
        }
        expect(ctx!.liveBuffers()).toBe(live);
      }, 120_000);
    }
  }
  it('reports the worst sum-exp error seen, as a fraction of the bound', () => {
    console.log(`top-candidates: worst sum-exp relative error = ${worst.toExponential(2)} of the bound`);
    expect(worst).toBeGreaterThan(0);
  });
  it('refuses C > 128, C >= V', () => {
    expect(() => topCandidatesWgsl(258, 129)).toThrow(/C <= 128/);
    expect(() => topCandidatesWgsl(64, 64)).toThrow(/C < V/);
  });
});

// The GPU-host kit's one entry point, bundled by pack.sh into a single file that runs on a machine with
// only the kit's node binary and dawn.node (no npm, no registry):
//   node kit.mjs probe            the adapter, its features and limits, and one kernel whose result is checked
//   node kit.mjs bench [args]     the webgpu engine benchmark (bench/engine-webgpu-bench.ts; --shape 1b --out DIR ...)
import { create, globals } from 'webgpu';
import { runWebgpuBench } from '../engine-webgpu-bench.js';

Object.assign(globalThis, globals);

const SQUARE_WGSL = `
@group(0) @binding(0) var<storage, read_write> xs: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  if (gid.x < arrayLength(&xs)) { xs[gid.x] = xs[gid.x] * xs[gid.x] + 1.0; }
}`;

/** Prints what the adapter is and offers, then squares 1M floats on it and checks every one. */
async function probe(): Promise<void> {
  const gpu = create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('no WebGPU adapter (is libvulkan1 unpacked and VK_DRIVER_FILES pointing at the ICD?)');
  const { vendor, architecture, description, device: deviceName } = adapter.info as GPUAdapterInfo & { device?: string };
  console.log(`adapter: vendor ${vendor} architecture ${architecture} device ${deviceName ?? ''} description ${description}`);
  console.log(`features: ${[...adapter.features].sort().join(' ')}`);
  const limits: Record<string, number> = {};
  for (const key in adapter.limits) limits[key] = (adapter.limits as unknown as Record<string, number>)[key];
  console.log(`limits: ${JSON.stringify(limits)}`);
  const device = await adapter.requestDevice();
  const n = 1 << 20;
  const input = Float32Array.from({ length: n }, (_, i) => (i % 1000) / 10);
  const buf = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  const read = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(buf, 0, input);
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: SQUARE_WGSL }), entryPoint: 'main' } });
  const group = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: buf } }] });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, group);
  pass.dispatchWorkgroups(n / 64);
  pass.end();
  enc.copyBufferToBuffer(buf, 0, read, 0, n * 4);
  const t0 = performance.now();
  device.queue.submit([enc.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const ms = performance.now() - t0;
  const out = new Float32Array(read.getMappedRange().slice(0));
  read.unmap();
  let wrong = 0;
  // A GPU may fuse x * x + 1 into one rounding: allow one f32 ulp or so.
  for (let i = 0; i < n; i++) {
    const want = input[i] * input[i] + 1;
    if (!(Math.abs(out[i] - want) <= want * 2 ** -22)) wrong++;
  }
  buf.destroy();
  read.destroy();
  device.destroy();
  console.log(`kernel: squared ${n} floats in ${ms.toFixed(2)} ms (submit to readback), ${wrong} wrong`);
  if (wrong > 0) process.exitCode = 1;
}

const [command, ...rest] = process.argv.slice(2);
if (command === 'probe') await probe();
else if (command === 'bench') await runWebgpuBench(rest);
else {
  console.error('usage: node kit.mjs probe | bench [--shape small|1b] [--contexts 8192,32768] [--steps N] [--out DIR]');
  process.exitCode = 2;
}

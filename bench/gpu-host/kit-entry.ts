// The GPU-host kit's one entry point, bundled by pack.sh into a single file that runs on a machine with
// only the kit's node binary and dawn.node (no npm, no registry):
//   node kit.mjs probe            the adapter, its features and limits, and one kernel whose result is checked
//   node kit.mjs verify DIR [...]  the eval on a checkpoint folder on wasm and on webgpu (f32 weights, then f16):
//                                 f32 must give the same accuracy and accounting as wasm (exit 1 if not)
//   node kit.mjs eval [args]      `npm run eval`'s CLI (bench/eval-cli.ts)
//   node kit.mjs bench [args]     the webgpu engine benchmark (bench/engine-webgpu-bench.ts; --shape 1b --out DIR ...)
import { execFileSync } from 'node:child_process';
import { create, globals } from 'webgpu';
import { runWebgpuBench } from '../engine-webgpu-bench.js';
import { runEvalCli } from '../eval-cli.js';

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

/** What must agree between backends: the eval summary's accuracy and accounting (timings may not). */
const AGREED = ['problems', 'correct', 'accuracy', 'achieved_ratio', 'kv_reads_per_problem', 'peak_kv_tokens_per_problem', 'completion_tokens_per_problem'];

/** One eval in a child process (the engine picks its backend once per process); its summary line. */
function evalOn(backend: string, weights: string | null, args: string[]): Record<string, unknown> {
  const env = { ...process.env, ...(weights ? { DMS_WEBGPU_WEIGHTS: weights } : {}) };
  const out = execFileSync(process.execPath, [process.argv[1], 'eval', ...args, '--backend', backend], {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const last = out.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as Record<string, unknown>;
}

/** The same eval on wasm and on webgpu: f32 device weights must agree with wasm exactly on AGREED; f16 is reported. */
function verify(args: string[]): void {
  const [dir, ...more] = args;
  if (!dir) throw new Error('usage: node kit.mjs verify DIR [--count N --method dms --ratio 8 ...]');
  const evalArgs = ['--model', dir, '--seed-start', '0', '--count', '16', ...more];
  const wasm = evalOn('wasm', null, evalArgs);
  const f32 = evalOn('webgpu', 'f32', evalArgs);
  const f16 = evalOn('webgpu', 'f16', evalArgs);
  const pick = (r: Record<string, unknown>) => Object.fromEntries(AGREED.map((k) => [k, r[k]]));
  console.log(`verify wasm:         ${JSON.stringify(pick(wasm))} (${wasm.tokens_per_s} tokens/s)`);
  console.log(`verify webgpu f32:   ${JSON.stringify(pick(f32))} (${f32.tokens_per_s} tokens/s)`);
  console.log(`verify webgpu f16:   ${JSON.stringify(pick(f16))} (${f16.tokens_per_s} tokens/s; f16 weights may differ)`);
  const differ = AGREED.filter((k) => wasm[k] !== f32[k]);
  console.log(
    differ.length === 0 ? 'verify: webgpu with f32 weights equals wasm on every agreed field' : `verify: webgpu f32 differs from wasm in ${differ.join(', ')}`,
  );
  if (differ.length > 0) process.exitCode = 1;
}

const [command, ...rest] = process.argv.slice(2);
if (command === 'probe') await probe();
else if (command === 'verify') verify(rest);
else if (command === 'eval')
  process.exit(await runEvalCli(rest)); // the GPU instance would keep the process alive
else if (command === 'bench') await runWebgpuBench(rest);
else {
  console.error('usage: node kit.mjs probe | verify DIR [eval args] | eval [args] | bench [--shape small|1b] [--contexts 8192,32768] [--steps N] [--out DIR]');
  process.exitCode = 2;
}

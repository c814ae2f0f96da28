// The bandwidth roofline of the webgpu bench: a WGSL copy kernel over a large buffer, timed end to end
// (submit to onSubmittedWorkDone); bytes read + written per second is the figure points are divided by.
import type { GpuContext } from '../engine/executors/webgpu/gpu-context.js';

const COPY_WGSL = `
@group(0) @binding(0) var<storage, read> src: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4f>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i < arrayLength(&src)) { dst[i] = src[i]; }
}`;

/** GB/s (1e9 bytes, read + write) of a copy of min(256 MiB, a quarter of the binding limit), best of 5 runs. */
export async function measureCopyBandwidth(ctx: GpuContext): Promise<number> {
  const bytes = Math.min(256 << 20, Math.floor(ctx.limits.maxStorageBufferBindingSize / 4 / 16) * 16);
  const dev = ctx.device;
  const src = ctx.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE });
  const dst = ctx.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE });
  try {
    const pipeline = dev.createComputePipeline({ layout: 'auto', compute: { module: dev.createShaderModule({ code: COPY_WGSL }), entryPoint: 'main' } });
    const group = dev.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: src } },
        { binding: 1, resource: { buffer: dst } },
      ],
    });
    const groups = Math.ceil(bytes / 16 / 256);
    const x = Math.min(groups, 65535);
    const y = Math.ceil(groups / x);
    let best = Number.POSITIVE_INFINITY;
    for (let r = 0; r < 6; r++) {
      const enc = dev.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(x, y);
      pass.end();
      const t0 = performance.now();
      dev.queue.submit([enc.finish()]);
      await dev.queue.onSubmittedWorkDone();
      // The first run pays for pipeline compilation: not counted.
      if (r > 0) best = Math.min(best, performance.now() - t0);
    }
    return (2 * bytes) / (best / 1000) / 1e9;
  } finally {
    ctx.destroyBuffer(src);
    ctx.destroyBuffer(dst);
  }
}

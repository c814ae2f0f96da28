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

/** Copies per submission: on a fast GPU one 1 GiB copy takes well under a millisecond, near the submit's own latency. */
export const COPIES_PER_RUN = 8;

/**
 * GB/s (1e9 bytes, read + write) of COPIES_PER_RUN back-to-back copies of min(1 GiB, a quarter of the
 * binding limit; 64 MiB on a software adapter), best of 5 runs: the roofline a decode step's bytes are divided by.
 */
export async function measureCopyBandwidth(ctx: GpuContext): Promise<number> {
  const bytes = Math.min(ctx.software ? 64 << 20 : 1 << 30, Math.floor(ctx.limits.maxStorageBufferBindingSize / 4 / 16) * 16);
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
      for (let c = 0; c < COPIES_PER_RUN; c++) pass.dispatchWorkgroups(x, y);
      pass.end();
      const t0 = performance.now();
      dev.queue.submit([enc.finish()]);
      await dev.queue.onSubmittedWorkDone();
      // The first run pays for pipeline compilation: not counted.
      if (r > 0) best = Math.min(best, performance.now() - t0);
    }
    return (2 * bytes * COPIES_PER_RUN) / (best / 1000) / 1e9;
  } finally {
    ctx.destroyBuffer(src);
    ctx.destroyBuffer(dst);
  }
}

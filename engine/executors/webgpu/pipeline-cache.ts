// The compute pipelines of one webgpu program, compiled once per kernel variant and kept across bind-group
// rebuilds, and bind groups made against a pipeline's own ('auto') layout from binding number -> buffer.

export class PipelineCache {
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  constructor(private readonly device: GPUDevice) {}

  /** The pipeline of `key`, compiling `code()` (entry point main) the first time. */
  get(key: string, code: () => string): GPUComputePipeline {
    let p = this.pipelines.get(key);
    if (!p) {
      p = this.device.createComputePipeline({ layout: 'auto', compute: { module: this.device.createShaderModule({ code: code() }), entryPoint: 'main' } });
      this.pipelines.set(key, p);
    }
    return p;
  }

  /** A bind group of group 0 of `p`: each binding number bound to its whole buffer. */
  bind(p: GPUComputePipeline, buffers: Record<number, GPUBuffer>): GPUBindGroup {
    return this.device.createBindGroup({
      layout: p.getBindGroupLayout(0),
      entries: Object.entries(buffers).map(([binding, buffer]) => ({ binding: Number(binding), resource: { buffer } })),
    });
  }
}

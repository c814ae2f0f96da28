// A checkpoint straight to the device: strict checks on the headers, then every fused weight block is
// read from the shards (only its bytes), converted once (f16 / bf16 / f32 -> the kernels' f16 or f32),
// written into its mapped buffer and dropped. No tfjs tensor is made and no second host copy exists.
import { openCheckpoint } from '../../model/load-model.js';
import { checkpointSource, type DeviceOnlyWeights } from '../../model/weight-source.js';
import { deviceOnlyModel, type LoadedModel } from '../../model/weights.js';
import { residentWeights } from './device-weights.js';
import type { GpuContext } from './gpu-context.js';
import { checkWebgpuConfig } from './support.js';

/** Loads `dir` onto the device in `precision`; the model's dispose() frees the buffers. */
export async function loadModelToDevice(dir: string, ctx: GpuContext, precision: 'f32' | 'f16'): Promise<LoadedModel> {
  const { config, stored, want, tokenizer } = openCheckpoint(dir);
  checkWebgpuConfig(config);
  if (precision === 'f16' && !ctx.f16) throw new Error('webgpu: f16 weights need the shader-f16 feature, which this adapter lacks');
  const consumed = new Set<string>();
  const weights: DeviceOnlyWeights = { deviceOnly: true, config, source: checkpointSource(config, stored, consumed) };
  const model = deviceOnlyModel(dir, weights, tokenizer);
  try {
    await residentWeights(ctx, weights, weights.source, precision === 'f16');
    // Strict loading, device side: the builder read every tensor the checks said the model consumes.
    const unread = [...want.keys()].filter((n) => !consumed.has(n));
    if (unread.length > 0) throw new Error(`webgpu load: tensor(s) ${unread.slice(0, 5).join(', ')} were checked but never uploaded`);
  } catch (err) {
    model.dispose();
    throw err;
  }
  return model;
}

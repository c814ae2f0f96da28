// The webgpu weight precision: f16 by default on a GPU that offers shader-f16 (half the bytes read per
// decode step), f32 on software adapters and without shader-f16; the option and DMS_WEBGPU_WEIGHTS win.
import { afterEach, describe, expect, it } from 'vitest';
import { webgpuWeightPrecision } from '../../../engine/executors/create-executor.js';

const gpu = { f16: true, software: false };
const lavapipe = { f16: true, software: true };
const noF16 = { f16: false, software: false };

describe('webgpu weight precision', () => {
  const saved = process.env.DMS_WEBGPU_WEIGHTS;
  afterEach(() => {
    if (saved === undefined) delete process.env.DMS_WEBGPU_WEIGHTS;
    else process.env.DMS_WEBGPU_WEIGHTS = saved;
  });

  it('defaults to f16 on a GPU with shader-f16 and to f32 elsewhere', () => {
    delete process.env.DMS_WEBGPU_WEIGHTS;
    expect(webgpuWeightPrecision(undefined, gpu)).toBe('f16');
    expect(webgpuWeightPrecision(undefined, lavapipe)).toBe('f32');
    expect(webgpuWeightPrecision(undefined, noF16)).toBe('f32');
  });

  it('takes DMS_WEBGPU_WEIGHTS, and the option over both', () => {
    process.env.DMS_WEBGPU_WEIGHTS = 'f32';
    expect(webgpuWeightPrecision(undefined, gpu)).toBe('f32');
    process.env.DMS_WEBGPU_WEIGHTS = 'f16';
    expect(webgpuWeightPrecision(undefined, lavapipe)).toBe('f16');
    expect(webgpuWeightPrecision('f32', lavapipe)).toBe('f32');
  });
});

// The process's WebGPU device through Dawn's Node bindings (the `webgpu` package): adapter info, the
// software-adapter check that keeps lavapipe out of automatic selection, raised limits, live-buffer count.
import { create, globals } from 'webgpu';
import type { AdapterInfo } from '../executor.js';

export interface GpuContext {
  readonly device: GPUDevice;
  readonly adapter: AdapterInfo;
  /** A CPU implementation (lavapipe / llvmpipe / SwiftShader): correct, slow, never chosen automatically. */
  readonly software: boolean;
  /** The adapter offers shader-f16 (f16 weights with f32 accumulation). */
  readonly f16: boolean;
  readonly limits: GPUSupportedLimits;
  /** Creates a buffer and counts it live until destroyBuffer (tests check the count returns to its start). */
  createBuffer(desc: GPUBufferDescriptor): GPUBuffer;
  destroyBuffer(b: GPUBuffer): void;
  /** Buffers created through this context and not destroyed yet. */
  liveBuffers(): number;
}

// The WebGPU globals (GPUBufferUsage, GPUMapMode...) exist from the first import of this module on.
Object.assign(globalThis, globals);

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|software|cpu/i;

/** Whether an adapter's info names a software rasteriser rather than a GPU. */
export function isSoftwareAdapter(info: AdapterInfo): boolean {
  return SOFTWARE.test(`${info.vendor} ${info.architecture} ${info.description}`);
}

let instance: GPU | null = null;
let pendingAdapter: Promise<GPUAdapter | null> | null = null;
let pending: Promise<GpuContext | null> | null = null;

function adapterInfo(adapter: GPUAdapter): AdapterInfo {
  const raw = adapter.info;
  return { vendor: raw.vendor ?? '', architecture: raw.architecture ?? '', description: raw.description ?? '' };
}

/** The process's adapter (no device opened yet); null when WebGPU has none or fails to load. */
function requestAdapter(): Promise<GPUAdapter | null> {
  pendingAdapter ??= (async () => {
    Object.assign(globalThis, globals);
    // Keep the instance referenced for the process's life: once it is garbage-collected, Dawn crashes (SIGSEGV).
    instance = create([]);
    return instance.requestAdapter({ powerPreference: 'high-performance' });
  })().catch((err) => {
    console.warn(`engine: WebGPU unavailable (${(err as Error).message})`);
    return null;
  });
  return pendingAdapter;
}

/** What automatic backend selection looks at: the adapter's info and whether it is software. */
export async function probeAdapter(): Promise<{ info: AdapterInfo; software: boolean } | null> {
  const adapter = await requestAdapter();
  if (!adapter) return null;
  const info = adapterInfo(adapter);
  return { info, software: isSoftwareAdapter(info) };
}

async function open(): Promise<GpuContext | null> {
  const adapter = await requestAdapter();
  if (!adapter) return null;
  const info = adapterInfo(adapter);
  const f16 = adapter.features.has('shader-f16');
  const lim = adapter.limits;
  // Ask for the adapter's own maxima: the defaults (128 MiB bindings, 8 storage buffers per stage) are too small.
  const device = await adapter.requestDevice({
    requiredFeatures: f16 ? ['shader-f16'] : [],
    requiredLimits: {
      maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize,
      maxBufferSize: lim.maxBufferSize,
      maxStorageBuffersPerShaderStage: lim.maxStorageBuffersPerShaderStage,
      maxComputeWorkgroupStorageSize: lim.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: lim.maxComputeWorkgroupsPerDimension,
    },
  });
  let live = 0;
  // No uncapturederror listener: with one attached, Dawn 0.6.2 aborted the process (std::system_error) on
  // creating a valid shader module here; validation errors are checked with error scopes in tests instead.
  return {
    device,
    adapter: info,
    software: isSoftwareAdapter(info),
    f16,
    limits: device.limits,
    createBuffer(desc) {
      live++;
      return device.createBuffer(desc);
    },
    destroyBuffer(b) {
      live--;
      b.destroy();
    },
    liveBuffers: () => live,
  };
}

/** The shared device (opened once per process); null when no adapter is available. */
export function gpuContext(): Promise<GpuContext | null> {
  pending ??= open().catch((err) => {
    console.warn(`engine: WebGPU device failed (${(err as Error).message})`);
    return null;
  });
  return pending;
}

// Which compression methods each engine backend serves, and the bitmask a job stores of the methods
// its requests use, so that a claim hands a runner only jobs its backend can run (engine support.ts agrees; a test checks).
import { COMPRESSION_METHODS, type CompressionMethod } from './params.js';

/** The engine backends, in the order error messages list them (the tfjs ones first). */
export const BACKENDS = ['wasm', 'tensorflow', 'cpu', 'webgpu'] as const;
export type Backend = (typeof BACKENDS)[number];

/**
 * Methods per backend. The wasm executor runs on every tfjs backend and serves every policy; webgpu
 * has no per-slot attention weights or host-side page selection on the device, so no tova, h2o, quest.
 */
const SERVED: Record<Backend, readonly CompressionMethod[]> = {
  wasm: COMPRESSION_METHODS,
  tensorflow: COMPRESSION_METHODS,
  cpu: COMPRESSION_METHODS,
  webgpu: ['none', 'window', 'dms'],
};

/**
 * The bit of each method in jobs.method_bits. Stored in databases: a bit never changes meaning; a new
 * method takes a new bit.
 */
export const METHOD_BITS: Record<CompressionMethod, number> = { none: 1, dms: 2, tova: 4, h2o: 8, quest: 16, window: 32 };

/** What a runner can serve: its backend's name and the methods it runs. */
export type RunnerCapability = { backend: Backend; methods: readonly CompressionMethod[] };

/** The methods `backend` serves. */
export function methodsServedBy(backend: Backend): readonly CompressionMethod[] {
  return SERVED[backend];
}

/** The backends that serve `method`, in BACKENDS order. */
export function backendsServing(method: CompressionMethod): Backend[] {
  return BACKENDS.filter((b) => SERVED[b].includes(method));
}

/** A backend's capability (its name and its methods). */
export function capabilityOf(backend: Backend): RunnerCapability {
  return { backend, methods: SERVED[backend] };
}

/** The backend a runner's reported backend names ("webgpu (lavapipe)" -> webgpu); null when it names none. */
export function backendOfLabel(label: string | undefined): Backend | null {
  const word = label?.trim().split(/[\s(]/, 1)[0];
  return (BACKENDS as readonly string[]).includes(word ?? '') ? (word as Backend) : null;
}

/** The bitmask of a set of methods (the OR of their bits). */
export function methodBits(methods: Iterable<CompressionMethod>): number {
  let bits = 0;
  for (const m of methods) bits |= METHOD_BITS[m];
  return bits;
}

/** The bits of the methods a runner serving `methods` does not serve: it may claim a job only if the job's bits miss all of them. */
export function unservedBits(methods: readonly CompressionMethod[]): number {
  return methodBits(COMPRESSION_METHODS.filter((m) => !methods.includes(m)));
}

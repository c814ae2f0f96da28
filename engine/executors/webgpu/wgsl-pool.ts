// The K/V page pool split across several storage buffers (a budget past one binding): how pages map
// to buffers, and the WGSL accessors through which every kernel reads and writes a pool slot.

/** First binding number of the pool buffers in every kernel that touches the pool (K buffers, then V). */
export const POOL_BINDING = 20;

/** Where the pool's slots live: `numBuffers` K buffers and as many V buffers, each of `slotsPerBuffer` slots of D floats. */
export interface PoolLayout {
  numBuffers: number;
  slotsPerBuffer: number;
  /** Pages per buffer (slotsPerBuffer / P): a page never straddles two buffers. */
  pagesPerBuffer: number;
}

/**
 * Splits `numPages` pages of P slots x D f32 into buffers of at most `maxBytes` each (whole pages).
 * Slot indices (page * P + slot) must stay below 2^31: the attention kernel marks staged entries with the top bit.
 */
export function poolLayout(numPages: number, pageSize: number, headDim: number, maxBytes: number): PoolLayout {
  const pageBytes = pageSize * headDim * 4;
  const pagesPerBuffer = Math.min(numPages, Math.floor(maxBytes / pageBytes));
  if (pagesPerBuffer < 1) throw new Error(`webgpu: one K/V page (${pageBytes} bytes) exceeds the per-buffer limit of ${maxBytes} bytes`);
  if (numPages * pageSize >= 2 ** 31) throw new Error(`webgpu: a KV budget of ${numPages * pageSize} tokens exceeds 2^31 slots`);
  return { numBuffers: Math.max(1, Math.ceil(numPages / pagesPerBuffer)), slotsPerBuffer: pagesPerBuffer * pageSize, pagesPerBuffer };
}

/**
 * Declarations of the pool buffers and the accessors kLoad/vLoad(slot, d) (and kStore/vStore when
 * writable): the buffer is slot / slotsPerBuffer, chosen by an if chain (WGSL cannot index bindings).
 * With one buffer the accessors are a plain index, so the unsplit kernels are unchanged.
 */
export function poolWgsl(layout: PoolLayout, headDim: number, writable: boolean): string {
  const S = layout.numBuffers;
  const access = writable ? 'read_write' : 'read';
  const lines: string[] = [];
  for (const [j, name] of [
    [0, 'k'],
    [1, 'v'],
  ] as const) {
    for (let b = 0; b < S; b++) lines.push(`@group(0) @binding(${POOL_BINDING + j * S + b}) var<storage, ${access}> ${name}pool${b}: array<f32>;`);
  }
  const addr = `let b = slot / ${layout.slotsPerBuffer}u; let o = (slot - b * ${layout.slotsPerBuffer}u) * ${headDim}u + d;`;
  for (const name of ['k', 'v']) {
    if (S === 1) {
      lines.push(`fn ${name}Load(slot: u32, d: u32) -> f32 { return ${name}pool0[slot * ${headDim}u + d]; }`);
      if (writable) lines.push(`fn ${name}Store(slot: u32, d: u32, x: f32) { ${name}pool0[slot * ${headDim}u + d] = x; }`);
      continue;
    }
    const load = Array.from({ length: S }, (_, b) => (b < S - 1 ? `if (b == ${b}u) { return ${name}pool${b}[o]; }` : `return ${name}pool${b}[o];`));
    lines.push(`fn ${name}Load(slot: u32, d: u32) -> f32 { ${addr} ${load.join(' ')} }`);
    if (writable) {
      const store = Array.from({ length: S }, (_, b) => (b < S - 1 ? `if (b == ${b}u) { ${name}pool${b}[o] = x; return; }` : `${name}pool${b}[o] = x;`));
      lines.push(`fn ${name}Store(slot: u32, d: u32, x: f32) { ${addr} ${store.join(' ')} }`);
    }
  }
  return lines.join('\n');
}

/** Bind-group entries of the pool buffers (K buffers, then V) at POOL_BINDING on. */
export function poolEntries(k: GPUBuffer[], v: GPUBuffer[]): Record<number, GPUBuffer> {
  const out: Record<number, GPUBuffer> = {};
  k.forEach((b, i) => {
    out[POOL_BINDING + i] = b;
  });
  v.forEach((b, i) => {
    out[POOL_BINDING + k.length + i] = b;
  });
  return out;
}

/** Storage buffers a kernel binds besides the pool: attention 8, commit gather 4, scatter 3. */
export const OTHER_STORAGE_BUFFERS = 8;

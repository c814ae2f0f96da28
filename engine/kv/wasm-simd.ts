// WebAssembly SIMD (f32x4) kernels for decode attention, assembled here byte by byte per (head dim D,
// group size G): q.k scores and probability-weighted value sums over one page of cached slots.
// They read the page pool's memory in place; JS loops are 2-4x slower (see attention-kernels.ts).

/**
 * Kernel exports; every pointer is a byte offset into the pool's WebAssembly.Memory. A row is given
 * by a table of i32 byte addresses of its pages (P slots of D floats each, in slot order) and n slots.
 */
export interface SimdKernels {
  /** sc[g*n + i] = scale * q_g . k_i for the n slots of the row (scStride = 4n bytes between g rows). */
  score(qPtr: number, tablePtr: number, n: number, P: number, scPtr: number, scStride: number, scale: number): void;
  /** out[g*D + d] += sum_i sc[g*n + i] * v_i[d] over the n slots of the row. */
  value(tablePtr: number, n: number, P: number, scPtr: number, scStride: number, outPtr: number): void;
}

// Opcodes (WebAssembly core + SIMD proposal as standardised).
const OP = {
  block: 0x02,
  loop: 0x03,
  end: 0x0b,
  brIf: 0x0d,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Load: 0x28,
  f32Load: 0x2a,
  f32Store: 0x38,
  i32Const: 0x41,
  select: 0x1b,
  i32Eqz: 0x45,
  i32LtU: 0x49,
  i32Add: 0x6a,
  i32Mul: 0x6c,
  f32Add: 0x92,
  f32Mul: 0x94,
  simd: 0xfd,
} as const;
const SIMD = { load: 0x00, store: 0x0b, const: 0x0c, f32x4Splat: 0x13, f32x4Extract: 0x1f, f32x4Add: 0xe4, f32x4Mul: 0xe6 } as const;
const T = { i32: 0x7f, f32: 0x7d, v128: 0x7b, func: 0x60, void: 0x40 } as const;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
}

const str = (s: string) => [...uleb(s.length), ...new TextEncoder().encode(s)];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];

/** Tiny instruction builder with named helpers for the few ops the kernels need. */
class Code {
  readonly b: number[] = [];
  get(i: number) {
    this.b.push(OP.localGet, ...uleb(i));
    return this;
  }
  set(i: number) {
    this.b.push(OP.localSet, ...uleb(i));
    return this;
  }
  i32(n: number) {
    this.b.push(OP.i32Const, ...sleb(n));
    return this;
  }
  op(...ops: number[]) {
    this.b.push(...ops);
    return this;
  }
  simd(op: number, ...imm: number[]) {
    this.b.push(OP.simd, ...uleb(op), ...imm);
    return this;
  }
  vload(offset: number) {
    return this.simd(SIMD.load, 4, ...uleb(offset));
  }
  vstore(offset: number) {
    return this.simd(SIMD.store, 4, ...uleb(offset));
  }
  vzero() {
    return this.simd(SIMD.const, ...new Array(16).fill(0));
  }
  /** local += step (i32). */
  inc(i: number, step: number) {
    return this.get(i).i32(step).op(OP.i32Add).set(i);
  }
  /**
   * Walks the n slots of a paged row: for each page, `ptr` = its address (read from the table at
   * `tp`), then body() runs once per slot with `ptr` advanced by D*4 bytes and `i` by 1 after each.
   */
  pagedSlots(tp: number, n: number, P: number, i: number, ptr: number, end: number, D: number, body: () => void) {
    this.op(OP.block, T.void).get(n).op(OP.i32Eqz, OP.brIf, 0).op(OP.loop, T.void);
    this.get(tp).op(OP.i32Load, 2, 0).set(ptr).inc(tp, 4);
    // end = min(i + P, n)
    this.get(i).get(P).op(OP.i32Add).get(n).get(i).get(P).op(OP.i32Add).get(n).op(OP.i32LtU, OP.select).set(end);
    this.op(OP.loop, T.void);
    body();
    this.inc(ptr, D * 4)
      .inc(i, 1)
      .get(i)
      .get(end)
      .op(OP.i32LtU, OP.brIf, 0, OP.end);
    this.get(i).get(n).op(OP.i32LtU, OP.brIf, 0, OP.end, OP.end);
    return this;
  }
}

function scoreBody(D: number, G: number): number[] {
  // params: 0 q, 1 table, 2 n, 3 P, 4 sc, 5 scStride, 6 scale(f32); locals: 7 i, 8 k, 9 end, 10 acc(v128)
  const c = new Code();
  c.pagedSlots(1, 2, 3, 7, 8, 9, D, () => {
    for (let g = 0; g < G; g++) {
      for (let d = 0; d < D; d += 4) {
        c.get(0)
          .vload((g * D + d) * 4)
          .get(8)
          .vload(d * 4)
          .simd(SIMD.f32x4Mul);
        if (d > 0) c.get(10).simd(SIMD.f32x4Add);
        c.set(10);
      }
      // &sc[g][i] = sc + g*scStride + 4i; value: horizontal sum * scale.
      c.get(4).get(5).i32(g).op(OP.i32Mul, OP.i32Add).get(7).i32(4).op(OP.i32Mul, OP.i32Add);
      c.get(10).simd(SIMD.f32x4Extract, 0).get(10).simd(SIMD.f32x4Extract, 1).op(OP.f32Add);
      c.get(10).simd(SIMD.f32x4Extract, 2).get(10).simd(SIMD.f32x4Extract, 3).op(OP.f32Add, OP.f32Add);
      c.get(6).op(OP.f32Mul, OP.f32Store, 2, 0);
    }
  });
  return [
    ...vec([
      [3, T.i32],
      [1, T.v128],
    ]),
    ...c.b,
    OP.end,
  ];
}

function valueBody(D: number, G: number): number[] {
  // params: 0 table, 1 n, 2 P, 3 sc, 4 scStride, 5 out; locals: 6 i, 7 v, 8 end, 9 sp, 10 p(v128), 11.. acc(v128) x G*D/4
  // Slot-major: each value vector is loaded once and feeds all G accumulators of its lane group.
  const c = new Code();
  const V = D / 4;
  const acc = (g: number, j: number) => 11 + g * V + j;
  for (let g = 0; g < G; g++) for (let j = 0; j < V; j++) c.vzero().set(acc(g, j));
  c.get(3).set(9);
  c.pagedSlots(0, 1, 2, 6, 7, 8, D, () => {
    for (let g = 0; g < G; g++) {
      c.get(9).get(4).i32(g).op(OP.i32Mul, OP.i32Add).op(OP.f32Load, 2, 0).simd(SIMD.f32x4Splat).set(10);
      for (let j = 0; j < V; j++)
        c.get(acc(g, j))
          .get(10)
          .get(7)
          .vload(j * 16)
          .simd(SIMD.f32x4Mul)
          .simd(SIMD.f32x4Add)
          .set(acc(g, j));
    }
    c.inc(9, 4);
  });
  for (let g = 0; g < G; g++) {
    for (let j = 0; j < V; j++) {
      const off = (g * D + 4 * j) * 4;
      c.get(5).get(5).vload(off).get(acc(g, j)).simd(SIMD.f32x4Add).vstore(off);
    }
  }
  return [
    ...vec([
      [4, T.i32],
      [1 + G * V, T.v128],
    ]),
    ...c.b,
    OP.end,
  ];
}

/** The module bytes for (D, G): imports env.memory, exports score and value. */
export function simdModuleBytes(D: number, G: number): Uint8Array<ArrayBuffer> {
  const types = vec([
    [T.func, ...vec([[T.i32], [T.i32], [T.i32], [T.i32], [T.i32], [T.i32], [T.f32]]), 0],
    [T.func, ...vec([[T.i32], [T.i32], [T.i32], [T.i32], [T.i32], [T.i32]]), 0],
  ]);
  const imports = vec([[...str('env'), ...str('memory'), 0x02, 0x00, ...uleb(1)]]);
  const funcs = vec([[0], [1]]);
  const exports = vec([
    [...str('score'), 0x00, 0],
    [...str('value'), 0x00, 1],
  ]);
  const bodies = [scoreBody(D, G), valueBody(D, G)].map((b) => [...uleb(b.length), ...b]);
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, types),
    ...section(2, imports),
    ...section(3, funcs),
    ...section(7, exports),
    ...section(10, vec(bodies)),
  ]);
}

const modules = new Map<string, WebAssembly.Module | null>();

/** Kernels bound to a memory, or null when D is not a multiple of 4 or the runtime lacks SIMD. */
export function simdKernels(memory: WebAssembly.Memory, D: number, G: number): SimdKernels | null {
  if (D % 4 !== 0 || process.env.DMS_NO_SIMD === '1') return null;
  const key = `${D}x${G}`;
  if (!modules.has(key)) {
    const bytes = simdModuleBytes(D, G);
    modules.set(key, WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null);
  }
  const mod = modules.get(key);
  if (!mod) return null;
  return new WebAssembly.Instance(mod, { env: { memory } }).exports as unknown as SimdKernels;
}

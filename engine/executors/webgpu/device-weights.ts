// One model's weights on the device, resident across generate() calls: the fused matrices (norms folded,
// q|k|v|dms and gate|up concatenated) as f32 or f16 buffers, split by columns past a binding limit, built
// from a WeightSource one column block at a time (each block written into its mapped buffer, then dropped).
import { derivedResource, forgetDerived } from '../../model/derived-resources.js';
import { floatToHalf } from '../../model/safetensors.js';
import type { ModelWeights, WeightSource } from '../../model/weight-source.js';
import type { GpuContext } from './gpu-context.js';

/** One column block of a [kin, out] matrix: its buffer holds [kin, cols] (row-major). */
export interface WeightPart {
  buffer: GPUBuffer;
  col0: number;
  cols: number;
}

/** A [kin, out] matrix as column blocks that each fit one storage binding. */
export interface DeviceMatrix {
  kin: number;
  out: number;
  parts: WeightPart[];
}

/** Rows [row0, row0 + rows) of the [V, d] embedding in one buffer (the table is split past a binding limit). */
export interface EmbedPart {
  buffer: GPUBuffer;
  row0: number;
  rows: number;
}

export interface DeviceLayer {
  qkvd: DeviceMatrix; // [d, (H+2K)*D (+K)]
  qkvBias: GPUBuffer | null; // [(H+2K)*D (+K zeros)]
  norms: GPUBuffer | null; // [2D]: q-norm then k-norm (Qwen3)
  o: DeviceMatrix; // [H*D, d]
  oBias: GPUBuffer | null; // [d]
  gateUp: DeviceMatrix; // [d, 2I]
  down: DeviceMatrix; // [I, d]
}

/** Label of every weight buffer (tests count the weight bytes a run creates by it). */
export const WEIGHT_LABEL = 'dms-weights';

/** A run of fused columns: the stored [width, kin] tensor `name`, its input rows scaled by `scale` (a folded norm). */
interface Segment {
  name: string;
  width: number;
  scale: Float32Array | null;
}

/** Most floats of one read from the source (bounds the host copy while a block is filled). */
const CHUNK_FLOATS = 1 << 22;

export class DeviceWeights {
  readonly layers: DeviceLayer[] = [];
  readonly embed: EmbedPart[] = [];
  lmHead!: DeviceMatrix; // [d, V]
  private readonly owned: GPUBuffer[] = [];
  /** Bytes uploaded to the device for this model. */
  bytes = 0;

  private constructor(
    readonly ctx: GpuContext,
    readonly f16: boolean,
  ) {}

  /**
   * Builds every device buffer from `source`, one tensor (or row range of one) at a time; the host holds
   * at most one column block and one read chunk. Waits for the queue after each matrix so that Dawn's
   * staging copies are released as the load goes, not at its end.
   */
  static async build(ctx: GpuContext, source: WeightSource, f16: boolean): Promise<DeviceWeights> {
    const w = new DeviceWeights(ctx, f16);
    try {
      await w.fill(source);
    } catch (err) {
      w.dispose();
      throw err;
    }
    return w;
  }

  private async fill(src: WeightSource): Promise<void> {
    const cfg = src.config;
    const { hiddenSize: d, numHeads: H, numKvHeads: K, headDim: D, intermediateSize: I } = cfg;
    const settle = async () => {
      this.ctx.device.queue.submit([]);
      await this.ctx.device.queue.onSubmittedWorkDone();
    };
    for (let l = 0; l < cfg.numLayers; l++) {
      const name = (suffix: string) => `model.layers.${l}.${suffix}`;
      const nv = cfg.dms?.format === 'nvidia';
      const inputNorm = src.vector(name('input_layernorm.weight'));
      const qkv: Segment[] = [
        { name: name('self_attn.q_proj.weight'), width: H * D, scale: inputNorm },
        { name: name('self_attn.k_proj.weight'), width: K * D, scale: inputNorm },
        { name: name('self_attn.v_proj.weight'), width: K * D, scale: inputNorm },
      ];
      const adapter = cfg.dms?.mode === 'adapter';
      if (adapter) {
        const dmsNorm = src.vector(name(nv ? 'self_attn.dms_proj_alpha_norm.weight' : 'self_attn.dms_norm.weight'));
        qkv.push({ name: name(nv ? 'self_attn.dms_proj_alpha.weight' : 'self_attn.dms_proj.weight'), width: K, scale: dmsNorm });
      }
      const width = qkv.reduce((a, s) => a + s.width, 0);
      let qkvBias: GPUBuffer | null = null;
      if (cfg.attentionBias) {
        const b = new Float32Array(width);
        b.set(src.vector(name('self_attn.q_proj.bias')), 0);
        b.set(src.vector(name('self_attn.k_proj.bias')), H * D);
        b.set(src.vector(name('self_attn.v_proj.bias')), (H + K) * D);
        if (adapter && cfg.dms?.adapterBias) b.set(src.vector(name(nv ? 'self_attn.dms_proj_alpha.bias' : 'self_attn.dms_proj.bias')), (H + 2 * K) * D);
        qkvBias = this.vector(b);
      }
      const norms = cfg.qkNorm
        ? this.vector(Float32Array.from([...src.vector(name('self_attn.q_norm.weight')), ...src.vector(name('self_attn.k_norm.weight'))]))
        : null;
      const qkvd = this.matrix(src, d, qkv);
      const o = this.matrix(src, H * D, [{ name: name('self_attn.o_proj.weight'), width: d, scale: null }]);
      const oBias = cfg.outputBias ? this.vector(src.vector(name('self_attn.o_proj.bias'))) : null;
      await settle();
      const postNorm = src.vector(name('post_attention_layernorm.weight'));
      const gateUp = this.matrix(src, d, [
        { name: name('mlp.gate_proj.weight'), width: I, scale: postNorm },
        { name: name('mlp.up_proj.weight'), width: I, scale: postNorm },
      ]);
      await settle();
      const down = this.matrix(src, I, [{ name: name('mlp.down_proj.weight'), width: d, scale: null }]);
      await settle();
      this.layers.push({ qkvd, qkvBias, norms, o, oBias, gateUp, down });
    }
    const finalNorm = src.vector('model.norm.weight');
    this.lmHead = this.matrix(src, d, [{ name: src.lmHeadName, width: cfg.vocabSize, scale: finalNorm }]);
    await settle();
    this.embedTable(src, cfg.vocabSize, d);
    await settle();
  }

  /** Frees every weight buffer. */
  dispose(): void {
    for (const b of this.owned.splice(0)) this.ctx.destroyBuffer(b);
  }

  /** A weight buffer of `elems` elements, mapped at creation: `write` fills it, then it is unmapped (uploaded). */
  private mapped(elems: number, half: boolean, what: string, write: (view: Float32Array | Uint16Array) => void): GPUBuffer {
    const bytes = elems * (half ? 2 : 4);
    if (bytes > this.ctx.limits.maxStorageBufferBindingSize) {
      throw new Error(`webgpu: ${what} of ${bytes} bytes exceeds the adapter's maxStorageBufferBindingSize (${this.ctx.limits.maxStorageBufferBindingSize})`);
    }
    const size = Math.max(16, Math.ceil(bytes / 4) * 4);
    const buffer = this.ctx.createBuffer({ size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST, label: WEIGHT_LABEL, mappedAtCreation: true });
    this.owned.push(buffer);
    this.bytes += size;
    const range = buffer.getMappedRange();
    write(half ? new Uint16Array(range, 0, elems) : new Float32Array(range, 0, elems));
    buffer.unmap();
    return buffer;
  }

  /** Small vectors (biases, q/k norms) stay f32. */
  private vector(data: Float32Array): GPUBuffer {
    return this.mapped(data.length, false, 'vector', (v) => v.set(data));
  }

  /**
   * The fused [kin, sum of widths] matrix of the segments (stored [width, kin] each, as HF writes
   * them), split into column blocks that fit one binding: each block reads only its stored rows.
   */
  private matrix(src: WeightSource, kin: number, segments: Segment[]): DeviceMatrix {
    const out = segments.reduce((a, s) => a + s.width, 0);
    const elem = this.f16 ? 2 : 4;
    const maxCols = Math.floor(this.ctx.limits.maxStorageBufferBindingSize / (kin * elem) / 16) * 16;
    if (maxCols < 1) throw new Error(`webgpu: one column of a [${kin}, ${out}] matrix exceeds the adapter's maxStorageBufferBindingSize`);
    const parts: WeightPart[] = [];
    for (let col0 = 0; col0 < out; col0 += maxCols) {
      const cols = Math.min(maxCols, out - col0);
      const buffer = this.mapped(kin * cols, this.f16, `a [${kin}, ${cols}] weight block`, (block) => {
        let segStart = 0;
        for (const seg of segments) {
          const a = Math.max(col0, segStart);
          const b = Math.min(col0 + cols, segStart + seg.width);
          const step = Math.max(1, Math.floor(CHUNK_FLOATS / kin));
          for (let c = a; c < b; c += step) {
            const n = Math.min(step, b - c);
            const rows = src.rows(seg.name, c - segStart, n);
            this.scatterColumns(block, cols, c - col0, rows, n, kin, seg.scale);
          }
          segStart += seg.width;
        }
      });
      parts.push({ buffer, col0, cols });
    }
    return { kin, out, parts };
  }

  /** block[r, at + j] = scale[r] * rows[j, r] for j < n, r < kin (transposing in 64 x 64 tiles). */
  private scatterColumns(
    block: Float32Array | Uint16Array,
    cols: number,
    at: number,
    rows: Float32Array,
    n: number,
    kin: number,
    scale: Float32Array | null,
  ): void {
    const half = this.f16;
    const T = 64;
    for (let r0 = 0; r0 < kin; r0 += T) {
      const r1 = Math.min(r0 + T, kin);
      for (let j0 = 0; j0 < n; j0 += T) {
        const j1 = Math.min(j0 + T, n);
        for (let r = r0; r < r1; r++) {
          const s = scale ? scale[r] : 1;
          const o = r * cols + at;
          for (let j = j0; j < j1; j++) {
            const v = Math.fround(s * rows[j * kin + r]);
            block[o + j] = half ? floatToHalf(v) : v;
          }
        }
      }
    }
  }

  /** The [V, d] embedding as row blocks that each fit one binding (f16 when the matrices are). */
  private embedTable(src: WeightSource, V: number, d: number): void {
    const name = 'model.embed_tokens.weight';
    const elem = this.f16 ? 2 : 4;
    const maxRows = Math.floor(this.ctx.limits.maxStorageBufferBindingSize / (d * elem));
    if (maxRows < 1) throw new Error(`webgpu: one embedding row of ${d} exceeds the adapter's maxStorageBufferBindingSize`);
    for (let row0 = 0; row0 < V; row0 += maxRows) {
      const rows = Math.min(maxRows, V - row0);
      const buffer = this.mapped(rows * d, this.f16, `embedding rows [${row0}, ${row0 + rows})`, (view) => {
        const step = Math.max(1, Math.floor(CHUNK_FLOATS / d));
        for (let r = 0; r < rows; r += step) {
          const n = Math.min(step, rows - r);
          const data = src.rows(name, row0 + r, n);
          if (this.f16) for (let i = 0; i < data.length; i++) view[r * d + i] = floatToHalf(data[i]);
          else view.set(data, r * d);
        }
      });
      this.embed.push({ buffer, row0, rows });
    }
  }
}

/** A build in flight or done, as a derived resource: dispose() frees the buffers once they exist. */
class ResidentWeights {
  value: DeviceWeights | null = null;
  disposed = false;
  constructor(readonly pending: Promise<DeviceWeights>) {
    pending.then(
      (w) => {
        if (this.disposed) w.dispose();
        else this.value = w;
      },
      () => {},
    );
  }
  dispose(): void {
    this.disposed = true;
    this.value?.dispose();
    this.value = null;
  }
}

/**
 * The device weights of `holder` (tfjs params or a device-only load) in one precision: built from
 * `source` by the first caller, then resident and shared until the model's dispose() (releaseDerived).
 */
export async function residentWeights(ctx: GpuContext, holder: ModelWeights, source: WeightSource, f16: boolean): Promise<DeviceWeights> {
  const key = `webgpu-weights-${f16 ? 'f16' : 'f32'}`;
  const r = derivedResource(holder, key, () => new ResidentWeights(DeviceWeights.build(ctx, source, f16)));
  try {
    return await r.pending;
  } catch (err) {
    forgetDerived(holder, key);
    throw err;
  }
}

// One model's weights on the device, resident across generate() calls: the fused matrices (norms folded,
// q|k|v|dms and gate|up concatenated) as f32 or f16 buffers, split by columns past a binding limit.
import type { LlamaParams } from '../../model/weights.js';
import { FusedWeights } from '../fused-weights.js';
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

/** IEEE half bits of a float (round to nearest even; overflow to infinity). */
function toHalf(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  const man = u & 0x7fffff;
  if (exp >= 31) return sign | 0x7c00 | (((u >>> 23) & 0xff) === 0xff && man ? 0x200 : 0);
  if (exp <= 0) {
    if (exp < -10) return sign;
    const m = (man | 0x800000) >>> (1 - exp);
    return sign | ((m + 0xfff + ((m >>> 13) & 1)) >>> 13);
  }
  const h = sign | (exp << 10) | (man >>> 13);
  const rest = man & 0x1fff;
  return rest > 0x1000 || (rest === 0x1000 && h & 1) ? h + 1 : h;
}

export class DeviceWeights {
  readonly layers: DeviceLayer[];
  readonly embed: GPUBuffer; // [V, d]
  readonly lmHead: DeviceMatrix; // [d, V]
  private readonly owned: GPUBuffer[] = [];
  /** Bytes uploaded to the device for this model. */
  bytes = 0;

  constructor(
    readonly ctx: GpuContext,
    params: LlamaParams,
    readonly f16: boolean,
  ) {
    const fused = new FusedWeights(params);
    try {
      const mat = (t: { dataSync(): unknown; shape: number[] }) => this.matrix(t.dataSync() as Float32Array, t.shape[0], t.shape[1]);
      this.layers = fused.layers.map((f) => {
        const width = f.qkvd.shape[1];
        let qkvBias: GPUBuffer | null = null;
        if (f.qkvBias) {
          const b = new Float32Array(width);
          b.set(f.qkvBias);
          qkvBias = this.f32(b);
        }
        const norms = f.qNorm && f.kNorm ? this.f32(Float32Array.from([...f.qNorm, ...f.kNorm])) : null;
        return { qkvd: mat(f.qkvd), qkvBias, norms, o: mat(f.o), oBias: f.oBias ? this.f32(f.oBias) : null, gateUp: mat(f.gateUp), down: mat(f.down) };
      });
      this.lmHead = mat(fused.lmHead);
      this.embed = this.upload(params.embed.dataSync() as Float32Array, this.f16, 'embedding');
    } catch (err) {
      this.dispose();
      throw err;
    } finally {
      fused.dispose();
    }
  }

  /** Frees every weight buffer. */
  dispose(): void {
    for (const b of this.owned.splice(0)) this.ctx.destroyBuffer(b);
  }

  private f32(data: Float32Array): GPUBuffer {
    return this.upload(data, false, 'vector');
  }

  private upload(data: Float32Array, half: boolean, what: string): GPUBuffer {
    const bytes = half ? data.length * 2 : data.length * 4;
    if (bytes > this.ctx.limits.maxStorageBufferBindingSize) {
      throw new Error(`webgpu: ${what} of ${bytes} bytes exceeds the adapter's maxStorageBufferBindingSize (${this.ctx.limits.maxStorageBufferBindingSize})`);
    }
    const size = Math.max(16, Math.ceil(bytes / 4) * 4);
    const buffer = this.ctx.createBuffer({ size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST, label: WEIGHT_LABEL });
    this.owned.push(buffer);
    this.bytes += size;
    if (half) {
      const h = new Uint16Array(size / 2);
      for (let i = 0; i < data.length; i++) h[i] = toHalf(data[i]);
      this.ctx.device.queue.writeBuffer(buffer, 0, h);
    } else {
      this.ctx.device.queue.writeBuffer(buffer, 0, data);
    }
    return buffer;
  }

  /** Splits a row-major [kin, out] matrix into column blocks that fit one binding each. */
  private matrix(data: Float32Array, kin: number, out: number): DeviceMatrix {
    const elem = this.f16 ? 2 : 4;
    const maxCols = Math.floor(this.ctx.limits.maxStorageBufferBindingSize / (kin * elem) / 16) * 16;
    if (maxCols < 1) throw new Error(`webgpu: one column of a [${kin}, ${out}] matrix exceeds the adapter's maxStorageBufferBindingSize`);
    const parts: WeightPart[] = [];
    for (let col0 = 0; col0 < out; col0 += maxCols) {
      const cols = Math.min(maxCols, out - col0);
      const block = cols === out ? data : new Float32Array(kin * cols);
      if (block !== data) for (let r = 0; r < kin; r++) block.set(data.subarray(r * out + col0, r * out + col0 + cols), r * cols);
      parts.push({ buffer: this.upload(block, this.f16, `a [${kin}, ${cols}] weight block`), col0, cols });
    }
    return { kin, out, parts };
  }
}

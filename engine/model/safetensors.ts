// Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON header
// naming each tensor's dtype, shape and byte range, then the raw little-endian data.
import { closeSync, openSync, writeSync } from 'node:fs';

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';

export interface NamedTensor {
  /** Stored dtype in the file (data is always returned as float32). */
  dtype: SafetensorsDtype;
  /** Tensor shape, row-major. */
  shape: number[];
  /** Values converted to float32. */
  data: Float32Array;
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

let halfValues: Float32Array | null = null;

/** Every f16 bit pattern's float value (256 KB), so decoding a large f16 tensor is one lookup per value. */
function halfTable(): Float32Array {
  if (!halfValues) {
    halfValues = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) halfValues[h] = halfToFloat(h);
  }
  return halfValues;
}

/** IEEE half bits of a float (round to nearest even; overflow to infinity, NaN stays NaN). */
export function floatToHalf(f: number): number {
  f32Scratch[0] = f;
  const x = u32Scratch[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** One tensor's entry in a safetensors header: dtype, shape and its byte range after the header. */
export interface TensorEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte range relative to the end of the header. */
  start: number;
  end: number;
}

/** Bytes per element of a stored dtype, or 0 when the dtype is not read. */
function widthOf(dtype: string): number {
  return dtype === 'F32' ? 4 : dtype === 'F16' || dtype === 'BF16' ? 2 : 0;
}

/** Parses the JSON header (bytes after the 8-byte length); checks dtypes and byte ranges against dataLength. */
export function parseHeader(headerBytes: Uint8Array, dataLength: number, label = 'safetensors'): Map<string, TensorEntry> {
  const header = JSON.parse(new TextDecoder().decode(headerBytes)) as Record<string, unknown>;
  const out = new Map<string, TensorEntry>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets } = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const [start, end] = data_offsets;
    const count = shape.reduce((a, b) => a * b, 1);
    const width = widthOf(dtype);
    if (width === 0) throw new Error(`${label}: tensor "${name}" has unsupported dtype ${dtype} (F32, F16, BF16 are read)`);
    if (end - start !== count * width || end > dataLength) {
      throw new Error(`${label}: tensor "${name}" byte range [${start}, ${end}) does not match shape [${shape}] of ${dtype}`);
    }
    out.set(name, { dtype: dtype as SafetensorsDtype, shape: [...shape], start, end });
  }
  return out;
}

/**
 * Converts a tensor's raw little-endian bytes to float32. With transpose2d a stored [rows, cols]
 * matrix comes back as [cols, rows] (only one tensor is ever held twice, briefly).
 */
export function decodeTensor(bytes: Uint8Array, dtype: SafetensorsDtype, shape: number[], transpose2d = false): Float32Array {
  const count = shape.reduce((a, b) => a * b, 1);
  const flat = new Float32Array(count);
  if (dtype === 'F32')
    new Uint8Array(flat.buffer).set(bytes.subarray(0, 4 * count)); // bytes need not be 4-byte aligned
  else {
    // Little-endian 16-bit words: a typed view when aligned (the loader's buffers are), else a copy.
    const words = bytes.byteOffset % 2 === 0 ? new Uint16Array(bytes.buffer, bytes.byteOffset, count) : new Uint16Array(bytes.slice(0, 2 * count).buffer);
    if (dtype === 'F16') {
      const table = halfTable();
      for (let i = 0; i < count; i++) flat[i] = table[words[i]];
    } else {
      const bits = new Uint32Array(flat.buffer);
      for (let i = 0; i < count; i++) bits[i] = words[i] << 16;
    }
  }
  return transpose2d ? transpose(flat, shape[0], shape[1]) : flat;
}

/** [rows, cols] -> [cols, rows] in 64 x 64 tiles, so reads and writes both stay in cache. */
function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  const B = 64;
  for (let r0 = 0; r0 < rows; r0 += B) {
    const r1 = Math.min(r0 + B, rows);
    for (let c0 = 0; c0 < cols; c0 += B) {
      const c1 = Math.min(c0 + B, cols);
      for (let r = r0; r < r1; r++) for (let c = c0, o = r * cols; c < c1; c++) out[c * rows + r] = a[o + c];
    }
  }
  return out;
}

/** Parses a whole safetensors file in memory; every tensor comes back as float32. */
export function readSafetensors(bytes: Uint8Array): Map<string, NamedTensor> {
  if (bytes.byteLength < 8) throw new Error('safetensors: file shorter than its 8-byte header length');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (8 + headerLen > bytes.byteLength) throw new Error(`safetensors: header length ${headerLen} exceeds file size ${bytes.byteLength}`);
  const base = 8 + headerLen;
  const out = new Map<string, NamedTensor>();
  for (const [name, e] of parseHeader(bytes.subarray(8, base), bytes.byteLength - base)) {
    out.set(name, { dtype: e.dtype, shape: e.shape, data: decodeTensor(bytes.subarray(base + e.start, base + e.end), e.dtype, e.shape) });
  }
  return out;
}

/** bfloat16 bits of a float: its top 16 bits, rounded to nearest even (NaN stays a quiet NaN). */
function floatToBf16(f: number): number {
  const u = new Uint32Array(new Float32Array([f]).buffer)[0];
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 0x40) & 0xffff;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Serialises named float32 tensors as F32, F16 or BF16 (names sorted, header padded to 8 bytes). */
export function writeSafetensors(tensors: Map<string, { shape: number[]; data: Float32Array }>, dtype: SafetensorsDtype = 'F32'): Uint8Array {
  const width = dtype === 'F32' ? 4 : 2;
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new Error(`safetensors: tensor "${name}" has ${t.data.length} values but shape [${t.shape}]`);
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + count * width] };
    offset += count * width;
  }
  let headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(headerBytes.length / 8) * 8;
  if (padded !== headerBytes.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(headerBytes);
    headerBytes = p;
  }
  const out = new Uint8Array(8 + padded + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(padded), true);
  out.set(headerBytes, 8);
  let pos = 8 + padded;
  for (const name of names) {
    const { data } = tensors.get(name)!;
    if (dtype === 'F32') {
      for (let i = 0; i < data.length; i++, pos += 4) view.setFloat32(pos, data[i], true);
    } else {
      const word = dtype === 'F16' ? floatToHalf : floatToBf16;
      for (let i = 0; i < data.length; i++, pos += 2) view.setUint16(pos, word(data[i]), true);
    }
  }
  return out;
}

/**
 * Writes a safetensors file tensor by tensor (for checkpoints too large to build in memory):
 * `produce(name)` returns each tensor's float32 values when its turn comes. Same layout as writeSafetensors.
 */
export function writeSafetensorsFile(path: string, shapes: Map<string, number[]>, produce: (name: string) => Float32Array, dtype: 'F32' | 'F16' = 'F32'): void {
  const width = dtype === 'F32' ? 4 : 2;
  const names = [...shapes.keys()].sort();
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const name of names) {
    const count = shapes.get(name)!.reduce((a, b) => a * b, 1);
    header[name] = { dtype, shape: shapes.get(name), data_offsets: [offset, offset + count * width] };
    offset += count * width;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const head = new Uint8Array(8 + padded).fill(0x20, 8);
  new DataView(head.buffer).setBigUint64(0, BigInt(padded), true);
  head.set(json, 8);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, head);
    for (const name of names) {
      const data = produce(name);
      const count = shapes.get(name)!.reduce((a, b) => a * b, 1);
      if (data.length !== count) throw new Error(`safetensors: tensor "${name}" has ${data.length} values but shape [${shapes.get(name)}]`);
      const out = new Uint8Array(count * width);
      const view = new DataView(out.buffer);
      if (dtype === 'F32') new Float32Array(out.buffer).set(data);
      else for (let i = 0; i < count; i++) view.setUint16(2 * i, floatToHalf(data[i]), true);
      writeSync(fd, out);
    }
  } finally {
    closeSync(fd);
  }
}

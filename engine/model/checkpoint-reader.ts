// Reads a checkpoint folder's tensors lazily: the safetensors headers (one file or an index of
// shards) first, then one tensor at a time from disk, so a large model is never held twice.
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { decodeTensor, parseHeader, type TensorEntry } from './safetensors.js';

/** A tensor's header entry and the shard file holding it. */
export interface StoredTensor extends TensorEntry {
  /** Path of the .safetensors file. */
  file: string;
  /** Byte offset of the data section in that file (8 + header length). */
  base: number;
}

/** Reads one file's header without reading its data. */
function readHeader(file: string): Map<string, StoredTensor> {
  const fd = openSync(file, 'r');
  try {
    const len = Buffer.alloc(8);
    if (readSync(fd, len, 0, 8, 0) !== 8) throw new Error(`safetensors: ${file} is shorter than its 8-byte header length`);
    const headerLen = Number(len.readBigUInt64LE(0));
    const size = fstatSync(fd).size;
    if (8 + headerLen > size) throw new Error(`safetensors: ${file} header length ${headerLen} exceeds the file size ${size}`);
    const header = Buffer.alloc(headerLen);
    readSync(fd, header, 0, headerLen, 8);
    const out = new Map<string, StoredTensor>();
    for (const [name, e] of parseHeader(header, size - 8 - headerLen, `safetensors ${file}`)) out.set(name, { ...e, file, base: 8 + headerLen });
    return out;
  } finally {
    closeSync(fd);
  }
}

/** Every tensor of a folder by name: model.safetensors, or the shards model.safetensors.index.json maps. */
export function indexCheckpoint(dir: string): Map<string, StoredTensor> {
  const single = join(dir, 'model.safetensors');
  const index = join(dir, 'model.safetensors.index.json');
  if (existsSync(single)) return readHeader(single);
  if (!existsSync(index)) throw new Error(`loadModel: neither model.safetensors nor model.safetensors.index.json in ${dir}`);
  const weightMap = (JSON.parse(readFileSync(index, 'utf8')) as { weight_map?: Record<string, string> }).weight_map;
  if (!weightMap || typeof weightMap !== 'object') throw new Error(`loadModel: ${index} has no weight_map`);
  const out = new Map<string, StoredTensor>();
  for (const shard of new Set(Object.values(weightMap))) {
    for (const [name, t] of readHeader(join(dir, shard))) {
      if (weightMap[name] !== shard) throw new Error(`loadModel: tensor "${name}" is in ${shard} but the index maps it to ${weightMap[name] ?? 'nothing'}`);
      out.set(name, t);
    }
  }
  for (const name of Object.keys(weightMap))
    if (!out.has(name)) throw new Error(`loadModel: the index maps "${name}" to ${weightMap[name]}, which does not hold it`);
  return out;
}

/** Reads and converts one tensor to float32 (a [rows, cols] matrix transposed to [cols, rows] when asked). */
export function readTensor(t: StoredTensor, transpose2d = false): Float32Array {
  const bytes = Buffer.alloc(t.end - t.start);
  const fd = openSync(t.file, 'r');
  try {
    let done = 0;
    while (done < bytes.length) {
      const n = readSync(fd, bytes, done, bytes.length - done, t.base + t.start + done);
      if (n === 0) throw new Error(`safetensors: ${t.file} ended inside a tensor`);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return decodeTensor(bytes, t.dtype, t.shape, transpose2d);
}

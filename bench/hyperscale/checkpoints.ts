// Checkpoint identity for the bench: a consistent snapshot of a model folder (training may be writing
// it right now), its sha256 (the key that makes a new checkpoint recompute) and its training step.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** A frozen copy of one checkpoint folder, safe to load while training overwrites the original. */
export interface CheckpointSnapshot {
  /** The folder asked for (e.g. models/reasoner-base). */
  source: string;
  /** The frozen copy the bench loads. */
  dir: string;
  /** sha256 of model.safetensors (hex). */
  sha256: string;
  /** Training step from train-state.json when the folder has one (pretraining), else null. */
  step: number | null;
  /** When model.safetensors was written (ISO time). */
  writtenAt: string;
}

const FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'train-state.json'];

/** Whether a folder holds a loadable checkpoint (config.json and model.safetensors). */
export function checkpointExists(dir: string): boolean {
  return existsSync(join(dir, 'config.json')) && existsSync(join(dir, 'model.safetensors'));
}

/** A safetensors file is complete when its header's largest data offset ends exactly at the file's end. */
export function safetensorsComplete(bytes: Uint8Array): boolean {
  if (bytes.byteLength < 8) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (8 + headerLen > bytes.byteLength) return false;
  try {
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen))) as Record<string, { data_offsets?: [number, number] }>;
    let end = 0;
    for (const [k, v] of Object.entries(header)) if (k !== '__metadata__' && v.data_offsets) end = Math.max(end, v.data_offsets[1]);
    return 8 + headerLen + end === bytes.byteLength;
  } catch {
    return false;
  }
}

function stamp(path: string): string {
  const s = statSync(path);
  return `${s.size}:${s.mtimeMs}`;
}

function readStep(path: string): number | null {
  try {
    const step = Number((JSON.parse(readFileSync(path, 'utf8')) as { step?: number }).step);
    return Number.isFinite(step) ? step : null;
  } catch {
    return null;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Copies a checkpoint folder into `into` and checks the copy is one consistent checkpoint: the model
 * file did not change during the copy and is complete, and train-state.json (written after the
 * weights) is not older than them. Retries while a writer is mid-save; after `timeoutMs` throws when
 * the weights never settle, or keeps them with an unknown step when only the state lags.
 */
export async function snapshotCheckpoint(source: string, into: string, timeoutMs = 120_000): Promise<CheckpointSnapshot> {
  const model = join(source, 'model.safetensors');
  const state = join(source, 'train-state.json');
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    if (attempt > 0) {
      // Some grace past the deadline so that a lagging state alone falls back instead of throwing.
      if (Date.now() > deadline + Math.min(5000, timeoutMs))
        throw new Error(`checkpoint ${source}: no consistent snapshot within ${timeoutMs / 1000}s (still being written?)`);
      await sleep(250);
    }
    const before = stamp(model);
    const stateBefore = existsSync(state) ? stamp(state) : null;
    mkdirSync(into, { recursive: true });
    for (const f of FILES) if (existsSync(join(source, f))) copyFileSync(join(source, f), join(into, f));
    if (stamp(model) !== before || (existsSync(state) ? stamp(state) : null) !== stateBefore) continue;
    const bytes = readFileSync(join(into, 'model.safetensors'));
    if (!safetensorsComplete(bytes)) continue;
    const modelTime = statSync(model).mtimeMs;
    // The trainer writes the weights first and train-state.json last: an older state means mid-save
    // (past the deadline the weights are kept and the step is reported unknown).
    const stale = stateBefore !== null && statSync(state).mtimeMs + 1 < modelTime;
    if (stale && Date.now() <= deadline) continue;
    const step = stateBefore !== null && !stale ? readStep(join(into, 'train-state.json')) : null;
    return {
      source,
      dir: into,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      step,
      writtenAt: new Date(modelTime).toISOString(),
    };
  }
}

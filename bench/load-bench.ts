// Loading at scale: writes a random-weight checkpoint of a given shape in F16 (tensor by tensor) and
// measures, in a fresh child process per case, load time and peak RSS for each backend and loader.
// npx tsx bench/load-bench.ts [--dir /tmp/dms-load] [--shapes small,1b] [--cases webgpu:device:f16,...]
//   -> bench/results/load.{json,md} (rows of the cases run replace the same rows; others are kept)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../engine/backend.js';
import { loadModelForBackend } from '../engine/executors/load-for-backend.js';
import { generate } from '../engine/index.js';
import { isDeviceOnly } from '../engine/model/weight-source.js';
import { type ModelConfig, modelConfigToJson, parseModelConfig } from '../engine/model/config.js';
import { readSafetensors, writeSafetensorsFile } from '../engine/model/safetensors.js';
import { buildByteLevelTokenizerConfig, buildByteLevelTokenizerJson, Tokenizer } from '../engine/model/tokenizer.js';
import { disposeParams, expectedTensors, loadModel, paramsFromNamed } from '../engine/model/weights.js';

/** Model shapes: `1b` is Llama-3.2-1B's (tied, 1.24B parameters); `small` a ~0.17B one for the loader comparison. */
const SHAPES: Record<string, Record<string, unknown>> = {
  '1b': {
    hidden_size: 2048,
    num_hidden_layers: 16,
    num_attention_heads: 32,
    num_key_value_heads: 8,
    head_dim: 64,
    intermediate_size: 8192,
    vocab_size: 128256,
  },
  small: { hidden_size: 1024, num_hidden_layers: 8, num_attention_heads: 16, num_key_value_heads: 8, head_dim: 64, intermediate_size: 4096, vocab_size: 32000 },
};

function shapeConfig(shape: string): ModelConfig {
  return parseModelConfig({
    model_type: 'llama',
    ...SHAPES[shape],
    rms_norm_eps: 1e-5,
    rope_theta: 500000,
    max_position_embeddings: 4096,
    tie_word_embeddings: true,
    bos_token_id: 256,
    eos_token_id: 257,
  });
}

/** A fast deterministic PRNG (xorshift32) filling uniform(-a, a); norms are ones. */
function randomTensor(name: string, count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  if (name.endsWith('norm.weight')) return out.fill(1);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = ((x >>> 0) / 4294967296 - 0.5) * 0.08;
  }
  return out;
}

function writeCheckpoint(dir: string, cfg: ModelConfig): void {
  if (existsSync(join(dir, 'model.safetensors'))) return;
  mkdirSync(dir, { recursive: true });
  const shapes = new Map([...expectedTensors(cfg, !cfg.tieWordEmbeddings)].map(([name, t]) => [name, t.shape]));
  let seed = 1;
  writeSafetensorsFile(
    join(dir, 'model.safetensors'),
    shapes,
    (name) =>
      randomTensor(
        name,
        shapes.get(name)!.reduce((a, b) => a * b, 1),
        seed++ * 2654435761,
      ),
    'F16',
  );
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify({ ...modelConfigToJson(cfg), torch_dtype: 'float16' }, null, 2)}\n`);
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(buildByteLevelTokenizerJson()));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(buildByteLevelTokenizerConfig()));
}

/** Child: loads once with the given loader and prints one JSON line of measurements. */
async function child(dir: string, mode: string): Promise<void> {
  const backend = await initBackend();
  if (mode === 'device') return deviceChild(dir);
  const t0 = performance.now();
  let numBytes = 0;
  if (mode === 'stream') {
    const m = loadModel(dir);
    numBytes = tf.memory().numBytes;
    m.dispose();
  } else {
    // The loader before issue 13: whole file in memory, every tensor converted to f32, then tensors.
    const cfg = parseModelConfig(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')));
    const named = readSafetensors(readFileSync(join(dir, 'model.safetensors')));
    const params = paramsFromNamed(cfg, named);
    Tokenizer.fromDir(dir);
    numBytes = tf.memory().numBytes;
    disposeParams(params);
  }
  const loadMs = performance.now() - t0;
  const maxRssMB = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify({ backend, mode, loadMs: Math.round(loadMs), maxRssMB: Math.round(maxRssMB), tensorMB: Math.round(numBytes / 2 ** 20) }));
}

/**
 * Child, webgpu: checkpoint -> device buffers (loadModelForBackend), then one short greedy generate()
 * to show the device weights run; prints load time, peak RSS, device bytes and tfjs tensors made (0).
 */
async function deviceChild(dir: string): Promise<void> {
  const { gpuContext } = await import('../engine/executors/webgpu/gpu-context.js');
  const { residentWeights } = await import('../engine/executors/webgpu/device-weights.js');
  const ctx = (await gpuContext())!;
  const weights = process.env.DMS_WEBGPU_WEIGHTS === 'f16' ? 'f16' : 'f32';
  const t0 = performance.now();
  const m = await loadModelForBackend(dir);
  const loadMs = performance.now() - t0;
  const maxRssMB = process.resourceUsage().maxRSS / 1024;
  if (!isDeviceOnly(m.weights)) throw new Error('expected a device-only load');
  const deviceMB = (await residentWeights(ctx, m.weights, m.weights.source, weights === 'f16')).bytes / 2 ** 20;
  const heap = process.memoryUsage();
  // One greedy request shows the device weights run; on lavapipe a 1B step takes minutes, so only the f16 row does it.
  let gen: Row['generate'];
  if (weights === 'f16') {
    const g0 = performance.now();
    const [r] = await generate(m, [{ id: 'g', prompt: 'Q:1+2=', maxTokens: 4, temperature: 0, ignoreEos: true }], { kvBudgetTokens: 1 << 14, maxBatch: 1 });
    gen = { tokens: r.usage.completionTokens, ms: Math.round(performance.now() - g0), maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024) };
  }
  m.dispose();
  console.log(
    JSON.stringify({
      backend: 'webgpu',
      mode: 'device',
      weights,
      adapter: ctx.adapter.description || ctx.adapter.vendor,
      loadMs: Math.round(loadMs),
      maxRssMB: Math.round(maxRssMB),
      deviceMB: Math.round(deviceMB),
      tensorMB: 0,
      numTensors: tf.memory().numTensors,
      heapUsedMB: Math.round(heap.heapUsed / 2 ** 20),
      arrayBuffersMB: Math.round(heap.arrayBuffers / 2 ** 20),
      generate: gen,
    }),
  );
}

interface Row {
  date?: string;
  weights?: string;
  adapter?: string;
  deviceMB?: number;
  numTensors?: number;
  heapUsedMB?: number;
  arrayBuffersMB?: number;
  generate?: { tokens: number; ms: number; maxRssMB: number };
  shape: string;
  parameters: number;
  fileMB: number;
  backend: string;
  mode: string;
  loadMs?: number;
  maxRssMB?: number;
  tensorMB?: number;
  error?: string;
}

function runCase(dir: string, shape: string, backend: string, mode: string, parameters: number, fileMB: number, weights?: string): Row {
  const date = new Date().toISOString();
  try {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'bench/load-bench.ts', '--child', '--dir', dir, '--mode', mode], {
      env: { ...process.env, DMS_BACKEND: backend, ...(weights ? { DMS_WEBGPU_WEIGHTS: weights } : {}) },
      encoding: 'utf8',
      timeout: 20 * 60_000,
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 1 << 24,
    });
    return { date, shape, parameters, fileMB, ...JSON.parse(out.trim().split('\n').pop()!) };
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    const lines = (err.stderr || err.message).trim().split('\n');
    const tail = (lines.find((l) => /Error/.test(l)) ?? lines.slice(-2).join(' ')).trim().slice(0, 300);
    return { date, shape, parameters, fileMB, backend, mode, ...(weights ? { weights } : {}), error: tail };
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string', default: '/tmp/dms-load-bench' },
      shapes: { type: 'string', default: 'small,1b' },
      cases: { type: 'string' },
      child: { type: 'boolean' },
      report: { type: 'boolean' },
      mode: { type: 'string' },
    },
  });
  if (values.child) return child(values.dir!, values.mode ?? 'stream');
  if (values.report) return writeReport(JSON.parse(readFileSync('bench/results/load.json', 'utf8')));
  await initBackend();
  const resultsPath = 'bench/results/load.json';
  const old = existsSync(resultsPath) ? (JSON.parse(readFileSync(resultsPath, 'utf8')) as { date: string; rows: Row[] }) : null;
  const keyOf = (r: Row) => `${r.shape}/${r.backend}/${r.mode}/${r.weights ?? ''}`;
  const rows: Row[] = (old?.rows ?? []).map((r) => ({ date: old?.date, ...r }));
  const put = (row: Row) => {
    const at = rows.findIndex((r) => keyOf(r) === keyOf(row));
    if (at >= 0) rows[at] = row;
    else rows.push(row);
  };
  for (const shape of values.shapes!.split(',')) {
    const cfg = shapeConfig(shape);
    const dir = join(values.dir!, shape);
    const w0 = performance.now();
    writeCheckpoint(dir, cfg);
    const writeS = (performance.now() - w0) / 1000;
    const shapes = expectedTensors(cfg, !cfg.tieWordEmbeddings);
    const parameters = [...shapes.values()].reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0);
    const fileMB = Math.round(readFileSync(join(dir, 'config.json')).length / 2 ** 20 + (parameters * 2) / 2 ** 20);
    console.log(`${shape}: ${parameters} parameters, ${fileMB} MB f16 (written in ${writeS.toFixed(0)} s if new)`);
    const all: Array<[string, string, string?]> = [
      ['cpu', 'stream'],
      ...(shape === '1b' ? [] : ([['cpu', 'whole']] as Array<[string, string]>)),
      ['wasm', 'stream'],
      ...(shape === '1b' ? [] : ([['wasm', 'whole']] as Array<[string, string]>)),
      ['webgpu', 'device', 'f16'],
      ['webgpu', 'device', 'f32'],
    ];
    const chosen = values.cases ? all.filter((c) => values.cases!.split(',').includes(c.filter(Boolean).join(':'))) : all;
    for (const [backend, mode, weights] of chosen) {
      const row = runCase(dir, shape, backend, mode, parameters, fileMB, weights);
      console.log(JSON.stringify(row));
      put(row);
    }
  }
  const doc = { date: new Date().toISOString(), node: process.version, machine: 'shared 2-core VM, 23 GB RAM, no GPU', rows };
  writeFileSync(resultsPath, `${JSON.stringify(doc, null, 2)}\n`);
  writeReport(doc);
}

/** bench/results/load.md from the rows (also alone: --report). */
function writeReport(doc: { date: string; node: string; machine: string; rows: Row[] }): void {
  const s = (ms?: number) => (ms !== undefined ? (ms / 1000).toFixed(1) : '-');
  const md = [
    '# Checkpoint loading: time and peak memory',
    '',
    `Written ${doc.date.slice(0, 10)} by \`npx tsx bench/load-bench.ts\` (${doc.machine}, Node ${doc.node}); each row says when it`,
    'was measured. Random-weight Llama checkpoints in F16 safetensors; each row is a fresh process (peak RSS =',
    '`process.resourceUsage().maxRSS`). `stream` is `loadModel` (headers first, one tensor read and converted at a time);',
    '`whole` is the loader before issue 13 (the whole file read, every tensor converted to f32 in a map, then copied into',
    'tensors). tfjs has no f16 tensors on any backend, so there weights become f32 once: the tensors alone take twice the',
    'file size. `device` is `loadModelForBackend` on webgpu (`DMS_BACKEND=webgpu`): checkpoint -> device buffers one',
    'column block at a time, no tfjs tensor (the `tfjs tensors` column counts what tf.memory() holds after the load),',
    "weights on the device in the precision of `DMS_WEBGPU_WEIGHTS`. **The webgpu rows ran on lavapipe** (Mesa's CPU",
    'Vulkan): there device memory is host memory, so their peak RSS includes the device weights (the `device` column,',
    "which counts the tied lm head's own norm-folded copy of the embedding) and Dawn's staging; on a GPU that part would",
    'be device memory instead. `generate` is one greedy 4-token request right after the load, on the device weights (f16 rows',
    'only: a 1B step takes minutes on lavapipe).',
    '',
    '| shape | parameters | file (MB, f16) | backend | loader | on device | load (s) | peak RSS (MB) | tfjs tensors (MB) | device (MB) | generate | measured | error |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...doc.rows.map(
      (r) =>
        `| ${r.shape} | ${(r.parameters / 1e9).toFixed(3)}B | ${r.fileMB} | ${r.backend} | ${r.mode} | ${r.weights ?? '-'} | ${s(r.loadMs)} | ${r.maxRssMB ?? '-'} | ${r.tensorMB ?? '-'} | ${r.deviceMB ?? '-'} | ${r.generate ? `${r.generate.tokens} tokens in ${s(r.generate.ms)} s, peak RSS ${r.generate.maxRssMB} MB` : '-'} | ${r.date?.slice(0, 16).replace('T', ' ') ?? '-'} | ${r.error ? r.error.replace(/\|/g, '/') : ''} |`,
    ),
    '',
  ].join('\n');
  writeFileSync('bench/results/load.md', md + NOTES);
}

/** Hand-written observations kept below the generated table. */
const NOTES = existsSync('bench/results/load-notes.md') ? readFileSync('bench/results/load-notes.md', 'utf8') : '';

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

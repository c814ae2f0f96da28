// Loading at scale: writes a random-weight checkpoint of a given shape in F16 (tensor by tensor) and
// measures, in a fresh child process per case, load time and peak RSS for each backend and loader.
// npx tsx bench/load-bench.ts [--dir /tmp/dms-load] [--shapes small,1b] -> bench/results/load.{json,md}
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../engine/backend.js';
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

interface Row {
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

function runCase(dir: string, shape: string, backend: string, mode: string, parameters: number, fileMB: number): Row {
  try {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'bench/load-bench.ts', '--child', '--dir', dir, '--mode', mode], {
      env: { ...process.env, DMS_BACKEND: backend },
      encoding: 'utf8',
      timeout: 20 * 60_000,
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 1 << 24,
    });
    return { shape, parameters, fileMB, ...JSON.parse(out.trim().split('\n').pop()!) };
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    const lines = (err.stderr || err.message).trim().split('\n');
    const tail = (lines.find((l) => /Error/.test(l)) ?? lines.slice(-2).join(' ')).trim().slice(0, 300);
    return { shape, parameters, fileMB, backend, mode, error: tail };
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string', default: '/tmp/dms-load-bench' },
      shapes: { type: 'string', default: 'small,1b' },
      child: { type: 'boolean' },
      mode: { type: 'string' },
    },
  });
  if (values.child) return child(values.dir!, values.mode ?? 'stream');
  await initBackend();
  const rows: Row[] = [];
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
    const cases: Array<[string, string]> =
      shape === '1b'
        ? [
            ['cpu', 'stream'],
            ['wasm', 'stream'],
          ]
        : [
            ['cpu', 'stream'],
            ['cpu', 'whole'],
            ['wasm', 'stream'],
            ['wasm', 'whole'],
          ];
    for (const [backend, mode] of cases) {
      const row = runCase(dir, shape, backend, mode, parameters, fileMB);
      console.log(JSON.stringify(row));
      rows.push(row);
    }
  }
  const doc = { date: new Date().toISOString(), node: process.version, machine: 'shared 2-core VM, 23 GB RAM, no GPU', rows };
  writeFileSync('bench/results/load.json', `${JSON.stringify(doc, null, 2)}\n`);
  const md = [
    '# Checkpoint loading: time and peak memory',
    '',
    `Measured ${doc.date.slice(0, 10)} by \`npx tsx bench/load-bench.ts\` (${doc.machine}, Node ${doc.node}). Random-weight`,
    'Llama checkpoints in F16 safetensors; each row is a fresh process (peak RSS = `process.resourceUsage().maxRSS`).',
    '`stream` is `loadModel` (headers first, one tensor read and converted at a time); `whole` is the loader before',
    'issue 13 (the whole file read, every tensor converted to f32 in a map, then copied into tensors). tfjs has no f16',
    'tensors on any backend, so weights become f32 once: the tensors alone take twice the file size.',
    '',
    '| shape | parameters | file (MB, f16) | backend | loader | load (s) | peak RSS (MB) | tensors (MB) | error |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.shape} | ${(r.parameters / 1e9).toFixed(3)}B | ${r.fileMB} | ${r.backend} | ${r.mode} | ${r.loadMs !== undefined ? (r.loadMs / 1000).toFixed(1) : '-'} | ${r.maxRssMB ?? '-'} | ${r.tensorMB ?? '-'} | ${r.error ? r.error.replace(/\|/g, '/') : ''} |`,
    ),
    '',
  ].join('\n');
  writeFileSync('bench/results/load.md', md);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

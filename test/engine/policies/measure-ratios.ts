// Measures the achieved compression per policy on a tiny random model at ratio 4 over a 300-token
// sequence (20 prompt tokens, then greedy decode), one token per model-runner step: `npx tsx <this file>`.
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../engine/backend.js';
import { PagePool } from '../../../engine/kv/page-pool.js';
import { PagedCache } from '../../../engine/kv/paged-cache.js';
import { disposeParams } from '../../../engine/model/weights.js';
import { tokenBudget } from '../../../engine/policies/kv-policy.js';
import { createPolicy, type PolicySpec } from '../../../engine/policies/registry.js';
import { WasmExecutor } from '../../../engine/executors/wasm/wasm-executor.js';
import { randomParams, tinyConfig } from '../helpers.js';
import { prng } from './harness.js';

const RATIO = 4;
const LENGTH = 300;
const PROMPT = 20;

const backend = await initBackend();
const model = tinyConfig({ dms: { mode: 'adapter', window: 16 } });
const params = randomParams(model, 1, 0.08);
const rows = model.numLayers * model.numKvHeads;
const specs: PolicySpec[] = ['none', 'dms', 'dms-w0', 'window', 'tova', 'h2o', 'quest'].map((method) => ({ method, ratio: RATIO }));

let budgetSum = 0;
for (let t = 1; t <= LENGTH; t++) budgetSum += Math.min(t, tokenBudget(t, RATIO, 16));
console.log(
  `backend ${backend}; model: ${model.numLayers} layers, ${model.numKvHeads} KV heads x ${model.numHeads / model.numKvHeads} queries, D ${model.headDim}; ratio ${RATIO}, ${LENGTH} tokens, floor 16, page 16`,
);
console.log(
  `budget rule itself: time-averaged ${((LENGTH * (LENGTH + 1)) / 2 / budgetSum).toFixed(2)}, final ${(LENGTH / tokenBudget(LENGTH, RATIO, 16)).toFixed(2)}`,
);
console.log('method  | memory ratio (time-avg) | memory ratio (final) | read ratio (time-avg) | peak tokens/row | ms/token');

for (const spec of specs) {
  const before = tf.memory().numTensors;
  const cache = new PagedCache(
    new PagePool({ pageSize: 16, headDim: model.headDim, budgetTokens: rows * 2 * LENGTH }),
    { numLayers: model.numLayers, numKvHeads: model.numKvHeads },
    true,
  );
  const runner = new WasmExecutor(params, cache);
  const seq = runner.addSequence(createPolicy(spec, model));
  const rand = prng(42);
  const prompt = [256, ...Array.from({ length: PROMPT - 1 }, () => Math.floor(rand() * 256))];
  let seenSum = 0,
    heldSum = 0,
    readSum = 0,
    peak = 0,
    token = prompt[0];
  const start = performance.now();
  for (let t = 0; t < LENGTH; t++) {
    const out = runner.runSync([{ seq, token, position: t, wantLogits: t >= PROMPT - 1 }]);
    const held = cache.tokensHeld(seq) / rows;
    seenSum += t + 1;
    heldSum += held;
    readSum += out.reads[0] / rows;
    peak = Math.max(peak, held);
    token = t + 1 < PROMPT ? prompt[t + 1] : argmax(out.logits);
  }
  const ms = (performance.now() - start) / LENGTH;
  const finalHeld = cache.tokensHeld(seq) / rows;
  runner.free(seq);
  (runner as Partial<{ dispose(): void }>).dispose?.();
  cache.checkIntegrity();
  if (tf.memory().numTensors !== before) throw new Error(`${spec.method}: tensor leak`);
  console.log(
    `${spec.method.padEnd(7)} | ${(seenSum / heldSum).toFixed(2).padStart(23)} | ${(LENGTH / finalHeld).toFixed(2).padStart(20)} | ${(seenSum / readSum).toFixed(2).padStart(21)} | ${peak.toFixed(1).padStart(15)} | ${ms.toFixed(2)}`,
  );
}
disposeParams(params);

function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

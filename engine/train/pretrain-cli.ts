// `npm run train`: pretrain the reasoner from scratch on the suite (or --resume a checkpoint).
// Example: npm run train -- --out models/reasoner-base --steps 20000 --token-budget 2048 --lr 1e-3
import { initBackend } from '../backend.js';
import { parseCliArgs } from './cli-args.js';
import { installWasmTrainingSpeedups } from './wasm-speedups.js';
import { DEFAULT_PRETRAIN, pretrain } from './pretrain.js';
import { parseCurriculum } from './curriculum.js';
import { reasonerConfig } from './reasoner-config.js';

async function main(): Promise<void> {
  const values = parseCliArgs('npm run train --', {
    out: { type: 'string', default: 'models/reasoner-base' },
    'log-dir': { type: 'string', default: 'models/logs' },
    name: { type: 'string', default: 'reasoner-base' },
    steps: { type: 'string' },
    'token-budget': { type: 'string' },
    lr: { type: 'string' },
    warmup: { type: 'string' },
    'decay-start': { type: 'string' },
    'decay-steps': { type: 'string' },
    'min-lr-ratio': { type: 'string' },
    'clip-norm': { type: 'string' },
    'weight-decay': { type: 'string' },
    curriculum: { type: 'string' },
    'family-weights': { type: 'string' },
    'checkpoint-every': { type: 'string' },
    'validate-every': { type: 'string' },
    'validation-count': { type: 'string' },
    'init-seed': { type: 'string' },
    'time-limit': { type: 'string' },
    hidden: { type: 'string' },
    layers: { type: 'string' },
    intermediate: { type: 'string' },
    resume: { type: 'boolean', default: false },
    'init-from': { type: 'string' },
  });
  const num = (k: keyof typeof values, fallback: number): number => (values[k] === undefined ? fallback : Number(values[k]));
  const backend = await initBackend();
  installWasmTrainingSpeedups();
  const d = DEFAULT_PRETRAIN;
  const steps = num('steps', d.steps);
  const cfg = {
    outDir: values.out as string,
    logDir: values['log-dir'] as string,
    name: values.name as string,
    model: reasonerConfig({
      hidden: num('hidden', 128),
      layers: num('layers', 4),
      intermediate: values.intermediate ? Number(values.intermediate) : undefined,
    }),
    steps,
    tokenBudget: num('token-budget', d.tokenBudget),
    lr: num('lr', d.lr),
    warmupSteps: num('warmup', d.warmupSteps),
    decayStart: num('decay-start', num('warmup', d.warmupSteps)),
    decaySteps: num('decay-steps', steps),
    minLrRatio: num('min-lr-ratio', d.minLrRatio),
    clipNorm: num('clip-norm', d.clipNorm),
    weightDecay: num('weight-decay', d.weightDecay),
    curriculum: parseCurriculum(values.curriculum ?? `${d.curriculum.warmSteps},${d.curriculum.fullSteps},${d.curriculum.startMax}`, values['family-weights']),
    checkpointEvery: num('checkpoint-every', d.checkpointEvery),
    validateEvery: num('validate-every', d.validateEvery),
    validationCount: num('validation-count', d.validationCount),
    initSeed: num('init-seed', d.initSeed),
    resume: values.resume as boolean,
    initFrom: (values['init-from'] as string | undefined) ?? null,
    timeLimitSec: num('time-limit', 0),
  };
  console.log(`backend ${backend}; ${JSON.stringify({ ...cfg, model: undefined })}`);
  const state = await pretrain(cfg);
  console.log(`done: step ${state.step}, ${state.tokensSeen} tokens, ${state.elapsedSec.toFixed(0)} s of steps`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

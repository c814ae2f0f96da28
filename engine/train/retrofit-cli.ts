// `npm run retrofit -- --ratio R`: retrofit DMS onto the base model (checkpoint at each integer ratio).
// Example: npm run retrofit -- --ratio 8 --window 16 --steps-per-ratio 100 [--hold-steps 40] [--mode neuron]
import { initBackend } from '../backend.js';
import { parseCliArgs } from './cli-args.js';
import { installWasmTrainingSpeedups } from './wasm-speedups.js';
import { DEFAULT_RETROFIT, KD_WEIGHTINGS, outputSuffix, retrofit, type KdWeighting } from './retrofit.js';
import { scheduleSteps } from './retrofit-schedule.js';

async function main(): Promise<void> {
  const values = parseCliArgs('npm run retrofit --', {
    ratio: { type: 'string', default: String(DEFAULT_RETROFIT.schedule.finalRatio) },
    teacher: { type: 'string', default: 'models/reasoner-base' },
    'out-prefix': { type: 'string', default: 'models/reasoner-dms' },
    'log-dir': { type: 'string', default: 'models/logs' },
    name: { type: 'string' },
    mode: { type: 'string', default: DEFAULT_RETROFIT.mode },
    window: { type: 'string', default: String(DEFAULT_RETROFIT.window) },
    tau: { type: 'string', default: String(DEFAULT_RETROFIT.tau) },
    'steps-per-ratio': { type: 'string', default: String(DEFAULT_RETROFIT.schedule.stepsPerRatio) },
    'hold-steps': { type: 'string', default: String(DEFAULT_RETROFIT.schedule.holdSteps) },
    lr: { type: 'string', default: String(DEFAULT_RETROFIT.lr) },
    'token-budget': { type: 'string', default: String(DEFAULT_RETROFIT.tokenBudget) },
    train: { type: 'string', default: DEFAULT_RETROFIT.train },
    'validation-count': { type: 'string', default: String(DEFAULT_RETROFIT.validationCount) },
    'seed-start': { type: 'string', default: String(DEFAULT_RETROFIT.seedStart) },
    resume: { type: 'boolean', default: false },
    'kd-weighting': { type: 'string', default: DEFAULT_RETROFIT.kdWeighting },
  });
  const mode = values.mode as string;
  if (mode !== 'adapter' && mode !== 'neuron') throw new Error(`--mode must be adapter or neuron, got ${mode}`);
  const train = values.train as string;
  if (train !== 'all' && train !== 'predictor') throw new Error(`--train must be all or predictor, got ${train}`);
  if (train === 'predictor' && mode === 'neuron') throw new Error('--train predictor needs --mode adapter (neuron mode has no new weights)');
  const kdWeighting = values['kd-weighting'] as KdWeighting;
  if (!KD_WEIGHTINGS.includes(kdWeighting)) throw new Error(`--kd-weighting must be one of ${KD_WEIGHTINGS.join(', ')}, got ${kdWeighting}`);
  const ratio = Number(values.ratio);
  if (!(ratio >= 2)) throw new Error(`--ratio must be >= 2, got ${values.ratio}`);
  const window = Number(values.window);
  if (!Number.isInteger(window) || window < 0) throw new Error(`--window must be an integer >= 0, got ${values.window}`);
  const cfg = {
    ...DEFAULT_RETROFIT,
    teacherDir: values.teacher as string,
    outPrefix: values['out-prefix'] as string,
    logDir: values['log-dir'] as string,
    name: values.name ?? `reasoner-dms${outputSuffix({ window, mode })}`,
    mode: mode as 'adapter' | 'neuron',
    window,
    tau: Number(values.tau),
    schedule: { finalRatio: ratio, stepsPerRatio: Number(values['steps-per-ratio']), holdSteps: Number(values['hold-steps']) },
    lr: Number(values.lr),
    tokenBudget: Number(values['token-budget']),
    train: train as 'all' | 'predictor',
    validationCount: Number(values['validation-count']),
    seedStart: Number(values['seed-start']),
    resume: values.resume as boolean,
    kdWeighting,
  };
  const backend = await initBackend();
  installWasmTrainingSpeedups();
  console.log(`backend ${backend}; ${scheduleSteps(cfg.schedule)} steps; ${JSON.stringify(cfg)}`);
  const dirs = await retrofit(cfg);
  console.log(`done: ${dirs.join(', ')}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

// The remote runner: `npm run runner -- --gateway URL --token T` polls a gateway's runner API and
// runs claimed jobs with the default executor; SIGINT/SIGTERM release the current job and exit.
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { createDefaultExecutor } from './executor-factory.js';
import { HttpJobSource } from './http-source.js';
import { DEFAULT_RUNNER_CONFIG, RunnerLoop } from './runner-loop.js';

const USAGE = `usage: npm run runner -- --gateway URL --token TOKEN [--runner-id ID] [--models a,b] [--heartbeat-ms N]
  (or DMS_GATEWAY_URL / DMS_RUNNER_TOKEN / DMS_RUNNER_ID in the environment)`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      gateway: { type: 'string' },
      token: { type: 'string' },
      'runner-id': { type: 'string' },
      models: { type: 'string' },
      'heartbeat-ms': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const baseUrl = values.gateway ?? process.env.DMS_GATEWAY_URL;
  const token = values.token ?? process.env.DMS_RUNNER_TOKEN;
  if (!baseUrl || !token) {
    console.error(USAGE);
    return 2;
  }
  const executor = await createDefaultExecutor();
  if (!executor) {
    console.error('no executor available: the engine executor is not wired in yet (gpu-runner/executor-factory.ts)');
    return 1;
  }
  const runnerId = values['runner-id'] ?? process.env.DMS_RUNNER_ID ?? `${hostname()}-${process.pid}`;
  const loop = new RunnerLoop(new HttpJobSource({ baseUrl, token }), executor, {
    runnerId,
    models: values.models?.split(',').filter(Boolean),
    heartbeatMs: values['heartbeat-ms'] ? Number(values['heartbeat-ms']) : DEFAULT_RUNNER_CONFIG.heartbeatMs,
  });
  console.log(`runner ${runnerId} polling ${baseUrl} (backend ${executor.backend ?? 'unknown'})`);
  loop.start();
  await new Promise<void>((resolve) => {
    const stop = () => void loop.stop().then(resolve);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

main().then((code) => process.exit(code));

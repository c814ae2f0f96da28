// The `dms` command: submit a JSONL batch, follow it, fetch its results, cancel it, or run it locally
// on the engine. Output meant for scripts goes to stdout, progress and errors to stderr.
import { createWriteStream } from 'node:fs';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Job, RequestParams } from '../protocol/index.js';
import { GatewayClient } from './client.js';
import { CliError, EXIT, EXIT_CODES_HELP, type ExitCode, usageError } from './errors.js';
import { parseCompression, readBatchFile } from './input-file.js';
import { exitCodeOf, watchJob } from './progress.js';

const CONNECTION = `  --gateway URL   gateway base URL (env DMS_GATEWAY, default http://localhost:8787)
  --key KEY       client API key (env DMS_API_KEY; prefer the env var, flags show in ps)`;
const JOB_FLAGS = `  --model NAME            model for every request (default: the lines' model, else the gateway's default)
  --max-tokens N, --n N, --temperature T, --top-p P, --seed S
                          job defaults: apply to every request whose params do not set them
                          (a line's own params win; a note on stderr says how many lines kept theirs)
  --compression M[:R]     job default KV policy, e.g. dms:4, tova:2, none
  --override              the param flags above replace what the lines set, on every line
  --metadata k=v          job metadata (repeatable)`;
const FILE_FORMAT = `FILE.jsonl: one request per line, either {"custom_id", "prompt", "params"?} (params as in POST /v1/jobs)
or OpenAI batch lines {"custom_id", "method": "POST", "url": "/v1/responses" | "/v1/chat/completions" | "/v1/completions", "body"}.`;

const HELP: Record<string, string> = {
  main: `usage: dms <command> [options]

commands:
  submit FILE.jsonl [--wait]   submit a batch as one job; prints the job id
  status ID                    a job's status, request counts and usage
  watch ID                     live progress: counts, tokens/s, ETA; exits when the job ends
  list [--status S]            your jobs, newest first (status: queued, running, ... comma-separated)
  results ID [-o FILE]         the job's results as NDJSON (stdout or FILE)
  cancel ID                    cancel a job (finished results are kept)
  run FILE.jsonl [-o FILE]     run a batch on this machine with the engine, no gateway (DMS_MODELS_DIR)
  help [COMMAND]               this text, or a command's

Every command takes --help.
${CONNECTION}

${EXIT_CODES_HELP}`,
  submit: `usage: dms submit FILE.jsonl [--wait] [--interval S] [--idempotency-key K] [--json] [job flags]

Submits every line of FILE as one job and prints its id (with --json, the whole job).
With --wait, follows it like \`dms watch\` (progress on stderr) and exits 0 only if every request succeeded.
  --idempotency-key K     resubmitting with the same key returns the same job instead of a new one
${JOB_FLAGS}
${CONNECTION}

${FILE_FORMAT}

${EXIT_CODES_HELP}`,
  status: `usage: dms status ID [--json]

Prints the job's status, request counts, usage totals and timestamps (with --json, the job object).
${CONNECTION}

${EXIT_CODES_HELP}`,
  watch: `usage: dms watch ID [--interval S]

Redraws a progress line on stderr until the job ends: [bar] finished/total, succeeded, failed,
canceled, generated tokens per second and an ETA (measured since watching began).
Exits 0 when every request succeeded, 1 otherwise; Ctrl-C stops watching (130), not the job.
  --interval S    seconds between polls (default 1)
${CONNECTION}

${EXIT_CODES_HELP}`,
  list: `usage: dms list [--status S[,S...]] [--limit N] [--after ID] [--json]

Lists your jobs, newest first: id, status, finished/total requests, model, created time.
  --status S      only jobs in these statuses (queued, running, completed, failed, canceling, canceled), comma-separated
  --limit N       jobs per page (default 20, at most 100); a last line says how to get the next page
  --after ID      the page after this job id
  --json          the list page as the gateway sends it
${CONNECTION}

${EXIT_CODES_HELP}`,
  results: `usage: dms results ID [-o FILE]

Writes the finished requests as NDJSON (one result per line, in submission order) to stdout or FILE.
${CONNECTION}

${EXIT_CODES_HELP}`,
  cancel: `usage: dms cancel ID [--json]

Cancels a job: a queued job at once, a running one at its runner's next heartbeat. Prints the new status.
${CONNECTION}

${EXIT_CODES_HELP}`,
  run: `usage: dms run FILE.jsonl [-o FILE] [job flags]

Runs the batch on this machine with the engine (checkpoints in DMS_MODELS_DIR, default ./models),
without a gateway. Result lines (as \`dms results\` prints them) go to stdout or FILE in the order
requests finish; progress goes to stderr. DMS_PRICE_PER_RUNNER_HOUR sets the cost (default 2.0).
${JOB_FLAGS}

${FILE_FORMAT}

${EXIT_CODES_HELP}`,
};

type Options = NonNullable<ParseArgsConfig['options']>;
const common: Options = { help: { type: 'boolean', short: 'h' }, gateway: { type: 'string' }, key: { type: 'string' } };
const jobOptions: Options = {
  model: { type: 'string' },
  'max-tokens': { type: 'string' },
  n: { type: 'string' },
  temperature: { type: 'string' },
  'top-p': { type: 'string' },
  seed: { type: 'string' },
  compression: { type: 'string' },
  override: { type: 'boolean' },
  metadata: { type: 'string', multiple: true },
};
const OPTIONS: Record<string, Options> = {
  submit: {
    ...common,
    ...jobOptions,
    wait: { type: 'boolean' },
    interval: { type: 'string' },
    'idempotency-key': { type: 'string' },
    json: { type: 'boolean' },
  },
  status: { ...common, json: { type: 'boolean' } },
  watch: { ...common, interval: { type: 'string' } },
  list: { ...common, status: { type: 'string' }, limit: { type: 'string' }, after: { type: 'string' }, json: { type: 'boolean' } },
  results: { ...common, output: { type: 'string', short: 'o' } },
  cancel: { ...common, json: { type: 'boolean' } },
  run: { ...common, ...jobOptions, output: { type: 'string', short: 'o' } },
};

type Values = Record<string, string | boolean | string[] | undefined>;

function number(values: Values, flag: string): number | undefined {
  const raw = values[flag];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw === '' || !Number.isFinite(value)) throw usageError(`--${flag} must be a number, got "${raw}"`);
  return value;
}

function jobFlags(values: Values) {
  const defaults: RequestParams = {};
  const set = (key: keyof RequestParams, flag: string) => {
    const v = number(values, flag);
    if (v !== undefined) (defaults as Record<string, unknown>)[key] = v;
  };
  set('max_tokens', 'max-tokens');
  set('n', 'n');
  set('temperature', 'temperature');
  set('top_p', 'top-p');
  set('seed', 'seed');
  if (typeof values.compression === 'string') defaults.compression = parseCompression(values.compression);
  let metadata: Record<string, string> | undefined;
  for (const pair of (values.metadata as string[] | undefined) ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw usageError(`--metadata wants key=value, got "${pair}"`);
    metadata = { ...metadata, [pair.slice(0, eq)]: pair.slice(eq + 1) };
  }
  return { model: values.model as string | undefined, defaults, metadata, override: values.override === true };
}

const note = (message: string) => process.stderr.write(`dms: note: ${message}\n`);

function client(values: Values): GatewayClient {
  const baseUrl = (values.gateway as string | undefined) ?? process.env.DMS_GATEWAY ?? 'http://localhost:8787';
  return new GatewayClient({ baseUrl, apiKey: (values.key as string | undefined) ?? process.env.DMS_API_KEY });
}

/** Aborted on the first Ctrl-C; a second one exits at once. */
function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  process.once('SIGINT', () => {
    controller.abort();
    process.once('SIGINT', () => process.exit(EXIT.interrupted));
  });
  return controller.signal;
}

function summary(job: Job): string {
  const c = job.request_counts;
  const lines = [
    `${job.id}  ${job.status}  model ${job.model}  attempt ${job.attempt}/${job.max_attempts}`,
    `requests: ${c.total} total, ${c.succeeded} succeeded, ${c.failed} failed, ${c.canceled} canceled, ${c.queued} queued, ${c.running} running`,
  ];
  const u = job.usage;
  if (u) {
    lines.push(
      `usage: ${u.prompt_tokens} prompt + ${u.completion_tokens} completion tokens, ${u.kv_token_reads.toLocaleString('en-US')} KV token reads, ` +
        `peak ${u.peak_kv_tokens} KV tokens (${u.peak_kv_bytes} bytes), achieved ratio ${u.achieved_ratio.toFixed(2)}, ${u.runner_seconds.toFixed(2)} runner-s, $${u.cost.toFixed(6)}`,
    );
  }
  const times = (['created_at', 'started_at', 'cancel_requested_at', 'completed_at', 'failed_at', 'canceled_at'] as const)
    .filter((k) => job[k])
    .map((k) => `${k.replace('_at', '')} ${job[k]}`);
  lines.push(times.join('  '));
  if (job.error) lines.push(`error: ${job.error.code}: ${job.error.message}`);
  return lines.join('\n');
}

/** Where a stream of result lines goes: FILE (-o) or stdout. */
function outputOf(values: Values): { stream: Writable; close: () => Promise<void> } {
  if (typeof values.output !== 'string') return { stream: process.stdout, close: async () => {} };
  const stream = createWriteStream(values.output);
  return {
    stream,
    close: async () => {
      stream.end();
      await finished(stream);
    },
  };
}

function oneArg(command: string, positionals: string[], what: string): string {
  if (positionals.length !== 1) throw usageError(`dms ${command} takes exactly one ${what}; see dms ${command} --help`);
  return positionals[0];
}

async function run(argv: string[]): Promise<ExitCode> {
  const [command, ...rest] = argv;
  if (!command) {
    process.stderr.write(`${HELP.main}\n`);
    return EXIT.usage;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    const topic = command === 'help' && rest[0] && HELP[rest[0]] ? rest[0] : 'main';
    process.stdout.write(`${HELP[topic]}\n`);
    return EXIT.ok;
  }
  const options = OPTIONS[command];
  if (!options) throw usageError(`unknown command "${command}"; commands: ${Object.keys(OPTIONS).join(', ')} (dms --help)`);
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true }) as { values: Values; positionals: string[] };
  } catch (error) {
    throw usageError(`${(error as Error).message}; see dms ${command} --help`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${HELP[command]}\n`);
    return EXIT.ok;
  }
  const intervalMs = (number(values, 'interval') ?? 1) * 1000;

  switch (command) {
    case 'submit': {
      const job = await client(values).submit(
        readBatchFile(oneArg(command, positionals, 'FILE.jsonl'), jobFlags(values), note),
        values['idempotency-key'] as string | undefined,
      );
      process.stdout.write(values.json ? `${JSON.stringify(job, null, 2)}\n` : `${job.id}\n`);
      if (!values.wait) return EXIT.ok;
      return exitCodeOf(await watchJob(client(values), job.id, { intervalMs, out: process.stderr, signal: interruptSignal() }));
    }
    case 'status': {
      const job = await client(values).getJob(oneArg(command, positionals, 'job ID'));
      process.stdout.write(values.json ? `${JSON.stringify(job, null, 2)}\n` : `${summary(job)}\n`);
      return EXIT.ok;
    }
    case 'watch':
      return exitCodeOf(await watchJob(client(values), oneArg(command, positionals, 'job ID'), { intervalMs, out: process.stderr, signal: interruptSignal() }));
    case 'results': {
      const id = oneArg(command, positionals, 'job ID');
      const body = await client(values).results(id);
      const out = outputOf(values);
      let lines = 0;
      const counter = new Writable({
        write(chunk: Buffer, _enc, done) {
          lines += chunk.toString('utf8').split('\n').length - 1;
          out.stream.write(chunk) ? done() : out.stream.once('drain', () => done());
        },
      });
      await body.pipeTo(Writable.toWeb(counter));
      await out.close();
      if (typeof values.output === 'string') process.stderr.write(`wrote ${lines} results of ${id} to ${values.output}\n`);
      return EXIT.ok;
    }
    case 'list': {
      if (positionals.length > 0) throw usageError('dms list takes no arguments; see dms list --help');
      const page = await client(values).listJobs({
        status: values.status as string | undefined,
        limit: number(values, 'limit'),
        after: values.after as string | undefined,
      });
      if (values.json) {
        process.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
        return EXIT.ok;
      }
      for (const job of page.data) {
        const c = job.request_counts;
        process.stdout.write(
          `${job.id}  ${job.status.padEnd(9)}  ${`${c.succeeded + c.failed + c.canceled}/${c.total}`.padStart(11)}  ${job.model}  ${job.created_at}\n`,
        );
      }
      if (page.has_more) process.stderr.write(`more: dms list --after ${page.next_after}${values.status ? ` --status ${values.status}` : ''}\n`);
      return EXIT.ok;
    }
    case 'cancel': {
      const job = await client(values).cancel(oneArg(command, positionals, 'job ID'));
      process.stdout.write(values.json ? `${JSON.stringify(job, null, 2)}\n` : `${job.id} ${job.status}\n`);
      return EXIT.ok;
    }
    case 'run': {
      const submission = readBatchFile(oneArg(command, positionals, 'FILE.jsonl'), jobFlags(values), note);
      const out = outputOf(values);
      const price = Number(process.env.DMS_PRICE_PER_RUNNER_HOUR ?? 2.0);
      // Imported here: it loads the engine (TensorFlow.js), which the gateway commands do not need.
      const { runLocal } = await import('./run-local.js');
      try {
        return await runLocal(submission, {
          modelsDir: process.env.DMS_MODELS_DIR || './models',
          defaultModel: process.env.DMS_DEFAULT_MODEL,
          pricePerRunnerHour: Number.isFinite(price) ? price : 2.0,
          output: out.stream,
          progress: process.stderr,
          signal: interruptSignal(),
        });
      } finally {
        await out.close();
      }
    }
  }
  throw usageError(`unknown command "${command}"`);
}

// A reader that closes the pipe (`dms results ID | head`) has what it wanted: exit quietly, with no
// EPIPE trace (and before tfjs-wasm's uncaughtException hook can print its source and exit 7).
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(EXIT.ok);
    throw error;
  });
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    if (error instanceof CliError) {
      process.stderr.write(`dms: ${error.message}\n`);
      process.exit(error.exitCode);
    }
    process.stderr.write(`dms: unexpected error: ${(error as Error)?.stack ?? error}\n`);
    process.exit(EXIT.internal);
  },
);

// `npm run bench:hyperscale`: the hyper-scaling evaluation (issue 6). Accuracy against KV reads, peak KV
// memory and throughput at one KV budget over (method, ratio, W, L); resumable; see --help.
import { parseBenchArgs, USAGE } from './hyperscale/args.js';
import { runBench } from './hyperscale/run.js';

/** The command as run, shell-quoted, without --label (free text already stated in the report). */
function commandLine(argv: string[]): string {
  const kept = argv.filter((a, i) => a !== '--label' && argv[i - 1] !== '--label' && !a.startsWith('--label='));
  const quoted = kept.map((a) => (/^[\w.,/=:-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`));
  return ['npm run bench:hyperscale --', ...quoted].join(' ');
}

async function main(): Promise<number> {
  let opts: ReturnType<typeof parseBenchArgs>;
  try {
    opts = parseBenchArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (opts === null) {
    console.log(USAGE);
    return 0;
  }
  const run = await runBench({ ...opts, command: commandLine(process.argv.slice(2)) });
  console.error(`ran ${run.ran} point(s), reused ${run.reused}; status ${run.doc.status}`);
  for (const f of run.files) console.log(f);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`bench:hyperscale: ${(err as Error).stack ?? err}`);
    process.exit(1);
  },
);

// Flag parsing for the training CLIs (`npm run train`, `npm run retrofit`): --help prints a usage
// built from the options and their defaults; an unknown or malformed flag prints it too and exits 2.
import { type ParseArgsConfig, parseArgs } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

/** The usage text: the command's line, then one line per flag with its default. */
export function usageOf(command: string, options: Options): string {
  const flags = Object.entries(options).map(([name, o]) => {
    const arg = o.type === 'string' ? ` ${name.replace(/-/g, '_').toUpperCase()}` : '';
    const fallback = o.default !== undefined && o.default !== false ? ` (default ${String(o.default)})` : '';
    return `  --${name}${arg}${fallback}`;
  });
  return `usage: ${command} [flags]\n${flags.join('\n')}\n  --help`;
}

/** parseArgs with --help and readable usage errors instead of an ERR_PARSE_ARGS_* stack trace. */
export function parseCliArgs<T extends Options>(command: string, options: T): ReturnType<typeof parseArgs<{ options: T }>>['values'] {
  const usage = usageOf(command, options);
  let parsed: { values: Record<string, unknown> };
  try {
    parsed = parseArgs({ options: { ...options, help: { type: 'boolean' } } });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${usage}\n`);
    process.exit(2);
  }
  if (parsed.values.help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  return parsed.values as ReturnType<typeof parseArgs<{ options: T }>>['values'];
}

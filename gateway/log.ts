// The gateway's logger: one line per event with plain fields. By default errors are summarised
// without statement parameters, bodies or bearer secrets, so prompts and keys never reach the logs.

export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  /** Whether error details (which may hold user data) are logged in full. */
  readonly verbose: boolean;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export interface LoggerConfig {
  /** Include full error messages (Drizzle ones carry SQL parameters, i.e. prompts). Off by default. */
  verbose: boolean;
  /** Where lines go; defaults to the console (stderr for warnings and errors). */
  write?: (level: 'info' | 'warn' | 'error', line: string) => void;
}

/** Bearer credentials and our key format, masked in every line whatever the verbosity. */
const SECRET_PATTERNS: RegExp[] = [/(bearer\s+)\S+/gi, /\bdms_[A-Za-z0-9_-]{8,}/g, /\b(lease_)[0-9a-f]{16,}/g];

export function redactSecrets(text: string): string {
  return SECRET_PATTERNS.reduce((out, re) => out.replace(re, (_m, p1) => `${typeof p1 === 'string' ? p1 : ''}[redacted]`), text);
}

/**
 * A loggable summary of an error and its cause chain: class name, code and the first line of each
 * message. Drizzle's "Failed query: ... params: ..." is replaced by a note unless `verbose`.
 */
export function describeError(error: unknown, verbose = false): string {
  const parts: string[] = [];
  let depth = 0;
  for (let e: unknown = error; e && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    const name = (e as Error).name ?? typeof e;
    const code = (e as { code?: unknown }).code;
    const raw = e instanceof Error ? e.message : String(e);
    let message = verbose ? raw : raw.split('\n')[0];
    if (!verbose && /^Failed query:/.test(message)) message = 'Failed query (SQL parameters withheld; DMS_LOG_VERBOSE=1 shows them)';
    if (!verbose && message.length > 300) message = `${message.slice(0, 300)}...`;
    parts.push(`${name}${typeof code === 'string' ? ` [${code}]` : ''}: ${message}`);
  }
  if (verbose && error instanceof Error && error.stack) parts.push(error.stack);
  return redactSecrets(parts.join(' <- '));
}

function format(message: string, fields: LogFields = {}): string {
  const extra = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' && /\s/.test(v) ? JSON.stringify(v) : String(v)}`);
  return redactSecrets([message, ...extra].join(' '));
}

export function createLogger(config: LoggerConfig): Logger {
  const write =
    config.write ??
    ((level, line) => {
      if (level === 'info') console.log(line);
      else console.error(line);
    });
  return {
    verbose: config.verbose,
    info: (message, fields) => write('info', format(message, fields)),
    warn: (message, fields) => write('warn', format(message, fields)),
    error: (message, fields) => write('error', format(message, fields)),
  };
}

/** The default: console, not verbose. */
export const defaultLogger: Logger = createLogger({ verbose: false });

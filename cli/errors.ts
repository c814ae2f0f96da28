// The CLI's exit codes (documented in `dms --help` and the README) and the error that carries one,
// so every failure ends with a one-line reason on stderr and a code scripts can branch on.

export const EXIT = {
  /** The command did what was asked (a waited-for job completed with every request succeeded). */
  ok: 0,
  /** The job ended, but not every request succeeded (failed or canceled requests, or a failed job). */
  incomplete: 1,
  /** Bad usage: unknown command or flag, unreadable or malformed input file. */
  usage: 2,
  /** The gateway refused the call (400 validation, 401/403 auth, 404 unknown id, 409 conflict, 413, 429). */
  rejected: 3,
  /** The gateway could not be reached, timed out, or failed (5xx). */
  unavailable: 4,
  /** A bug in the CLI itself (an unexpected exception; the stack trace is printed). */
  internal: 70,
  /** Interrupted by Ctrl-C (SIGINT) while waiting or running. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string) => new CliError(EXIT.usage, message);

export const EXIT_CODES_HELP = `exit codes:
  0    success (for --wait, watch and run: every request succeeded)
  1    the job ended but some requests failed or were canceled (or the job failed)
  2    usage error: unknown command or flag, unreadable or invalid input file
  3    refused by the gateway: invalid job (400), bad key (401/403), unknown id (404), conflict (409), too large (413), rate limited (429)
  4    gateway unreachable, timed out, or failing (5xx)
  70   internal error in dms itself (a stack trace is printed)
  130  interrupted (Ctrl-C)`;

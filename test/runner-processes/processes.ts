// Child processes for end-to-end tests: start a service in its own process group, wait for a line
// that says it is ready, and always kill the whole group (wrangler's workerd, tsx's node) afterwards.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

/** A free loopback port: one helper for the benchmarks and the tests. */
export { freePort } from '../../bench/reliability/gateway-process.js';

export const ROOT = join(import.meta.dirname, '../..');
export const BIN = (name: string) => join(ROOT, 'node_modules/.bin', name);

export type Service = {
  child: ChildProcess;
  output: () => string;
  /** Resolves once `pattern` appears in the output (rejects on exit or after timeoutMs). */
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>;
  /**
   * Sends a signal to the process group; resolves with the leader's exit code (null when killed by
   * the signal) once every process holding its output has exited (npm exits at once, its child drains).
   */
  stop: (signal?: NodeJS.Signals, timeoutMs?: number) => Promise<number | null>;
  exited: Promise<number | null>;
  /** Resolves when stdout and stderr closed: the leader and every descendant have exited. */
  closed: Promise<void>;
};

const live = new Set<ChildProcess>();

/** Kills every group still running (afterAll hooks call it; also runs at process exit). */
export function killAll(): void {
  for (const child of live) killGroupNow(child.pid);
}
process.once('exit', killAll);

/** SIGKILL to a group whose leader may already be gone (its orphans keep the group id). */
function killGroupNow(pid: number | undefined): void {
  try {
    if (pid !== undefined) process.kill(-pid, 'SIGKILL');
  } catch {
    // the group is empty
  }
}

/** Signals the whole group, even when its leader already exited (npm does; its child keeps running). */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is empty
  }
}

export function startService(command: string, args: string[], opts: { env?: Record<string, string | undefined>; cwd?: string } = {}): Service {
  const child = spawn(command, args, {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so grandchildren die with it
  });
  live.add(child);
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    out += chunk;
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const closed = Promise.all([once(child.stdout!, 'close'), once(child.stderr!, 'close')]).then(() => undefined);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      for (const l of listeners) l();
      resolve(code);
    }),
  );
  void closed.then(() => live.delete(child));

  const waitFor = (pattern: RegExp, timeoutMs = 60_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const match = out.match(pattern);
        if (match) return done(() => resolve(match));
        if (child.exitCode !== null || child.signalCode !== null)
          return done(() => reject(new Error(`${command} exited (${child.exitCode ?? child.signalCode}) before ${pattern}:\n${out.slice(-3000)}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`timed out waiting for ${pattern}:\n${out.slice(-3000)}`))), timeoutMs);
      const done = (fn: () => void) => {
        clearTimeout(timer);
        listeners.delete(check);
        fn();
      };
      listeners.add(check);
      check();
    });

  const stop = async (signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000) => {
    killGroup(child, signal);
    const timer = setTimeout(() => killGroupNow(child.pid), timeoutMs);
    const code = await exited;
    await closed;
    clearTimeout(timer);
    return code;
  };
  return { child, output: () => out, waitFor, stop, exited, closed };
}

/** Runs a command to completion (with a timeout); resolves with its exit code and output. */
export async function runToEnd(command: string, args: string[], opts: { env?: Record<string, string | undefined>; timeoutMs?: number } = {}) {
  const service = startService(command, args, opts);
  const timer = setTimeout(() => void service.stop('SIGKILL'), opts.timeoutMs ?? 120_000);
  const code = await service.exited;
  clearTimeout(timer);
  return { code, output: service.output() };
}

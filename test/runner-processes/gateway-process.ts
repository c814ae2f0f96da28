// One gateway process per test file: a temp folder, tiny models, a free port, the service started in
// beforeAll and always stopped (its whole process group) and cleaned up in afterAll; plus a JSON client.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { freePort, killAll, type Service } from './processes.js';
import { writeTinyModels } from './tiny-models.js';

/** What a start function gets: the file's temp folder, the tiny models' folder and the port to listen on. */
export type GatewayContext = { dir: string; modelsDir: string; port: number };

export type GatewayProcessOptions = {
  /** Temp folder prefix (e.g. 'dms-deno-'). */
  prefix: string;
  /** Client API key the gateway is started with; `api()` sends it unless told otherwise. */
  key: string;
  /** Starts the gateway process (called again by restart()). */
  start: (ctx: GatewayContext) => Service;
  /** The output line that says the gateway serves. */
  ready: RegExp;
  readyTimeoutMs?: number;
  /** Runs once before the first start (e.g. database migrations). */
  prepare?: (ctx: GatewayContext) => Promise<void>;
  /** beforeAll's timeout (model writing, preparation and the first start). */
  setupTimeoutMs?: number;
};

/** Parsed JSON, as loosely typed as JSON.parse returns it: tests index into response bodies freely. */
type Json = ReturnType<typeof JSON.parse>;

export type ApiResponse = { status: number; text: string; body: Json };

export type GatewayProcess = {
  readonly dir: string;
  readonly modelsDir: string;
  readonly base: string;
  readonly service: Service;
  /** A JSON request to the gateway, with `token` (default: the key) as bearer; body parsed when JSON. */
  api: (method: string, path: string, body?: unknown, token?: string) => Promise<ApiResponse>;
  /** Stops the running gateway with `signal` and returns its exit code; then starts it again on the same port and data. */
  restart: (signal?: NodeJS.Signals) => Promise<number | null>;
};

/** Registers beforeAll/afterAll for one gateway process and returns its handle (fields valid inside tests). */
export function withGatewayProcess(opts: GatewayProcessOptions): GatewayProcess {
  const dir = mkdtempSync(join(tmpdir(), opts.prefix));
  let ctx: GatewayContext | null = null;
  let service: Service | null = null;
  const started = async () => {
    service = opts.start(ctx!);
    await service.waitFor(opts.ready, opts.readyTimeoutMs ?? 60_000);
  };
  const need = () => {
    if (!ctx) throw new Error('gateway process: used outside its tests (beforeAll has not run)');
    return ctx;
  };
  const handle: GatewayProcess = {
    dir,
    get modelsDir() {
      return need().modelsDir;
    },
    get base() {
      return `http://127.0.0.1:${need().port}`;
    },
    get service() {
      if (!service) throw new Error('gateway process: not started');
      return service;
    },
    async api(method, path, body, token = opts.key) {
      const res = await fetch(`${handle.base}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, text, body: text && /^application\/json(;|$)/.test(res.headers.get('content-type') ?? '') ? JSON.parse(text) : null };
    },
    async restart(signal = 'SIGTERM') {
      const code = await handle.service.stop(signal);
      await started();
      return code;
    },
  };
  beforeAll(async () => {
    ctx = { dir, modelsDir: await writeTinyModels(), port: await freePort() };
    await opts.prepare?.(ctx);
    await started();
  }, opts.setupTimeoutMs ?? 120_000);
  afterAll(async () => {
    await service?.stop('SIGTERM', 10_000);
    killAll();
    rmSync(dir, { recursive: true, force: true });
    if (ctx) rmSync(ctx.modelsDir, { recursive: true, force: true });
  });
  return handle;
}

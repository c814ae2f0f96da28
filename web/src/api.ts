// The console's client of the gateway API (same origin): every call carries the session's key as
// a Bearer header; a 401 signs the session out. Response shapes are read loosely (see types.ts).
import { apiKey, signOut } from './session.js';
import type { Job, JobList, RequestView, ResultLine } from './types.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Listeners told when the key stopped working (the app then shows the sign-in form). */
const onSignedOut = new Set<() => void>();
export const whenSignedOut = (listener: () => void) => {
  onSignedOut.add(listener);
  return () => onSignedOut.delete(listener);
};

/** The error body's message plus its field issues, as one line a person can act on. */
async function errorMessage(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { error?: { message?: string; issues?: Array<{ field: string; reason: string }> } };
    const issues = (body.error?.issues ?? []).slice(0, 5).map((i) => `${i.field}: ${i.reason}`);
    return [body.error?.message ?? `HTTP ${res.status}`, ...issues].join('; ');
  } catch {
    return `HTTP ${res.status}`;
  }
}

async function request(method: string, path: string, body?: unknown, key = apiKey()): Promise<Response> {
  const headers: Record<string, string> = {};
  if (key) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  if (res.status === 401 && key === apiKey()) {
    signOut();
    for (const l of onSignedOut) l();
  }
  if (!res.ok) throw new ApiError(res.status, await errorMessage(res));
  return res;
}

const json = async <T>(method: string, path: string, body?: unknown): Promise<T> => (await request(method, path, body)).json() as Promise<T>;
const enc = encodeURIComponent;

export const api = {
  /** Checks a key before it is kept: one cheap authenticated read. */
  async verifyKey(key: string): Promise<void> {
    await request('GET', '/v1/jobs?limit=1', undefined, key);
  },
  /** A page of the tenant's jobs, newest first; `status` filters on the server (GET /v1/jobs?status=). */
  listJobs: (limit: number, after?: string, status?: string) =>
    json<JobList>('GET', `/v1/jobs?limit=${limit}${after ? `&after=${enc(after)}` : ''}${status ? `&status=${enc(status)}` : ''}`),
  getJob: (id: string) => json<Job>('GET', `/v1/jobs/${enc(id)}`),
  cancel: (id: string) => json<Job>('POST', `/v1/jobs/${enc(id)}/cancel`),
  submit: (body: unknown) => json<Job>('POST', '/v1/jobs', body),
  models: () => json<unknown>('GET', '/v1/models'),
  /** /healthz: the runners seen lately with their backend (what serves the models). */
  health: () => json<{ runners?: Array<{ runner_id: string; backend: string | null; last_seen_at: string }> }>('GET', '/healthz'),

  async results(id: string): Promise<ResultLine[]> {
    const text = await (await request('GET', `/v1/jobs/${enc(id)}/results`)).text();
    return text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as ResultLine);
  },

  /** Every submitted request (prompts), page by page; an older gateway without the route gives []. */
  async requests(id: string): Promise<RequestView[]> {
    const out: RequestView[] = [];
    let after = -1;
    for (let page = 0; page < 20; page++) {
      let list: { data: RequestView[]; has_more: boolean; next_after: number | null };
      try {
        list = await json('GET', `/v1/jobs/${enc(id)}/requests?limit=1000&after=${after}`);
      } catch (error) {
        if (error instanceof ApiError && error.status === 404 && out.length === 0 && page === 0) return [];
        throw error;
      }
      out.push(...list.data);
      if (!list.has_more || list.next_after === null) break;
      after = list.next_after;
    }
    return out;
  },
};

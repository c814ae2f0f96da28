// A small client of the gateway's job API for the CLI: bearer key, JSON in and out, and every
// failure turned into a CliError whose exit code says whether the gateway refused or was unreachable.
import type { ErrorBody, Job, JobList, SubmitJob } from '../protocol/index.js';
import { CliError, EXIT } from './errors.js';
import { groupProblems, issueProblem, listed } from './problems.js';

export type ClientConfig = {
  /** Gateway base URL (DMS_GATEWAY, default http://localhost:8787). */
  baseUrl: string;
  /** Client API key (DMS_API_KEY). */
  apiKey: string | undefined;
  timeoutMs?: number;
};

export class GatewayClient {
  constructor(private readonly config: ClientConfig) {}

  private async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    if (!this.config.apiKey) throw new CliError(EXIT.usage, 'no API key: set DMS_API_KEY (or pass --key)');
    const url = `${this.config.baseUrl.replace(/\/+$/, '')}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${this.config.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.config.timeoutMs ?? 60_000),
      });
    } catch (error) {
      const inner = (error as { cause?: { code?: string; message?: string } }).cause;
      const cause = inner?.code ?? inner?.message ?? (error as Error).message;
      throw new CliError(EXIT.unavailable, `cannot reach the gateway at ${this.config.baseUrl} (${cause}); set DMS_GATEWAY or pass --gateway`);
    }
    if (res.ok) return res;
    const text = await res.text();
    let message = text.slice(0, 2000) || res.statusText;
    try {
      const { error } = JSON.parse(text) as ErrorBody;
      // The message repeats the first issue; with several, the headline goes alone and every issue is
      // listed once, grouped (the same reason on 50 requests is one line with its count).
      const first = error.issues[0];
      const tail = first ? `: ${first.field}: ${first.reason}` : '';
      const headline = error.issues.length > 1 && error.message.endsWith(tail) ? error.message.slice(0, -tail.length) : error.message;
      message = error.issues.length > 1 ? `${headline}${listed(groupProblems(error.issues.map(issueProblem), 'request'))}` : headline;
    } catch {
      // not our error body: keep the text
    }
    const hint = res.status === 401 ? ' (check DMS_API_KEY)' : '';
    throw new CliError(res.status >= 500 ? EXIT.unavailable : EXIT.rejected, `${method} ${path} -> ${res.status}: ${message}${hint}`);
  }

  async submit(job: SubmitJob, idempotencyKey?: string): Promise<Job> {
    const res = await this.call('POST', '/v1/jobs', job, idempotencyKey ? { 'idempotency-key': idempotencyKey } : {});
    return (await res.json()) as Job;
  }

  async getJob(id: string): Promise<Job> {
    return (await (await this.call('GET', `/v1/jobs/${encodeURIComponent(id)}`)).json()) as Job;
  }

  /** A page of the caller's jobs, newest first (`status` comma-separated, as GET /v1/jobs takes it). */
  async listJobs(query: { limit?: number; after?: string; status?: string }): Promise<JobList> {
    const params = new URLSearchParams(
      Object.entries(query)
        .filter((e): e is [string, string] => e[1] !== undefined)
        .map(([k, v]) => [k, String(v)]),
    );
    const qs = params.size > 0 ? `?${params}` : '';
    return (await (await this.call('GET', `/v1/jobs${qs}`)).json()) as JobList;
  }

  async cancel(id: string): Promise<Job> {
    return (await (await this.call('POST', `/v1/jobs/${encodeURIComponent(id)}/cancel`)).json()) as Job;
  }

  /** The results NDJSON as a byte stream (written through to a file or stdout as it arrives). */
  async results(id: string): Promise<ReadableStream<Uint8Array>> {
    const res = await this.call('GET', `/v1/jobs/${encodeURIComponent(id)}/results`);
    if (!res.body) throw new CliError(EXIT.unavailable, 'the gateway sent no results body');
    return res.body;
  }
}

// The remote job source: the runner protocol over HTTP against a gateway's /v1/runner API with a
// runner token. 409 becomes StaleLeaseError, 204 on claim means no work; other errors throw.
import type { ClaimResponse, FinishResponse, HeartbeatResponse, RequestResultWrite } from '../protocol/index.js';
import { type ClaimRequest, type FinishStatus, type JobSource, StaleLeaseError } from './job-source.js';

export type HttpSourceConfig = {
  /** Gateway base URL, e.g. http://localhost:8787 */
  baseUrl: string;
  /** Runner token (DMS_RUNNER_TOKEN of the gateway). */
  token: string;
  /** Per-call timeout. */
  timeoutMs?: number;
  /** Injectable fetch (tests pass app.request-backed fetch); defaults to the global one. */
  fetch?: typeof fetch;
};

export class HttpJobSource implements JobSource {
  private readonly fetchFn: typeof fetch;

  constructor(private readonly config: HttpSourceConfig) {
    this.fetchFn = config.fetch ?? fetch;
  }

  private async post<T>(path: string, body: unknown, jobId?: string): Promise<T | null> {
    const url = `${this.config.baseUrl.replace(/\/+$/, '')}/v1/runner${path}`;
    const res = await this.fetchFn(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.config.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(this.config.timeoutMs ?? 30_000),
    });
    if (res.status === 204) return null;
    if (res.status === 409 && jobId) throw new StaleLeaseError(jobId);
    if (!res.ok) throw new Error(`POST ${path} -> ${res.status}: ${(await res.text()).slice(0, 500)}`);
    return (await res.json()) as T;
  }

  private async must<T>(path: string, body: unknown, jobId: string): Promise<T> {
    const out = await this.post<T>(path, body, jobId);
    if (out === null) throw new Error(`POST ${path} answered 204 without a body`);
    return out;
  }

  claim(input: ClaimRequest): Promise<ClaimResponse | null> {
    return this.post<ClaimResponse>('/claim', { runner_id: input.runnerId, models: input.models, backend: input.backend, methods: input.methods });
  }

  heartbeat(jobId: string, leaseToken: string): Promise<HeartbeatResponse> {
    return this.must(`/jobs/${encodeURIComponent(jobId)}/heartbeat`, { lease_token: leaseToken }, jobId);
  }

  async writeResult(jobId: string, leaseToken: string, result: RequestResultWrite): Promise<void> {
    await this.must(`/jobs/${encodeURIComponent(jobId)}/results`, { lease_token: leaseToken, results: [result] }, jobId);
  }

  private async finish(jobId: string, verb: string, body: Record<string, string>): Promise<FinishStatus> {
    return (await this.must<FinishResponse>(`/jobs/${encodeURIComponent(jobId)}/${verb}`, body, jobId)).status;
  }

  complete(jobId: string, leaseToken: string) {
    return this.finish(jobId, 'complete', { lease_token: leaseToken });
  }

  fail(jobId: string, leaseToken: string, reason: string) {
    return this.finish(jobId, 'fail', { lease_token: leaseToken, reason: reason.slice(0, 4096) || 'unknown error' });
  }

  release(jobId: string, leaseToken: string) {
    return this.finish(jobId, 'release', { lease_token: leaseToken });
  }
}

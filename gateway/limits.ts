// Every size and count the gateway enforces, in one typed object with defaults; entries and tests
// pass a partial override. Exceeding a size limit answers 413, anything else 400.

export interface Limits {
  /** Largest request body accepted on any route, in bytes (413 beyond). */
  maxBodyBytes: number;
  /** Most requests in one job (413 beyond). */
  maxRequestsPerJob: number;
  /** Most threads (`n`) one request may sample. */
  maxThreads: number;
  /** Most metadata keys on a job. */
  maxMetadataKeys: number;
  /** Longest accepted Idempotency-Key header. */
  maxIdempotencyKeyLength: number;
  /** Page size of GET /v1/jobs when `limit` is absent, and the largest allowed. */
  defaultListLimit: number;
  maxListLimit: number;
  /** Most results a runner may write in one call. */
  maxResultsPerWrite: number;
  /** Most field issues listed in one error body (the rest are counted in the message). */
  maxIssues: number;
  /** Sustained client API requests per second per key (429 with Retry-After beyond); 0 turns it off. */
  rateLimitPerSecond: number;
  /** Requests a key may make in a burst before the sustained rate applies. */
  rateLimitBurst: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxBodyBytes: 16 * 1024 * 1024,
  maxRequestsPerJob: 10_000,
  maxThreads: 64,
  maxMetadataKeys: 16,
  maxIdempotencyKeyLength: 255,
  defaultListLimit: 20,
  maxListLimit: 100,
  maxResultsPerWrite: 1_000,
  maxIssues: 50,
  rateLimitPerSecond: 100,
  rateLimitBurst: 200,
};

export function resolveLimits(partial: Partial<Limits> = {}): Limits {
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  return { ...DEFAULT_LIMITS, ...defined };
}

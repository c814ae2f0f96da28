// The job store's typed configuration: lease length, retry policy and price, with defaults.
// Times are milliseconds; the clock is injectable so tests and replays control time.

export interface StoreConfig {
  /** Current time in ms since the epoch. */
  clock: () => number;
  /** How long a claim or heartbeat keeps a job leased to its runner. */
  leaseMs: number;
  /** Claims allowed before an expired lease fails the job instead of requeueing it. */
  maxAttempts: number;
  /** Requeue delay after the first expired lease; doubles with each further attempt. */
  backoffBaseMs: number;
  /** Upper bound of the requeue delay. */
  backoffMaxMs: number;
  /** Price of one runner-hour in USD; a result's cost is runner_seconds times the per-second price. */
  pricePerRunnerHour: number;
  /** Rows per page when results are streamed. */
  resultPageSize: number;
}

export const DEFAULT_STORE_CONFIG: StoreConfig = {
  clock: () => Date.now(),
  leaseMs: 60_000,
  maxAttempts: 3,
  backoffBaseMs: 5_000,
  backoffMaxMs: 300_000,
  pricePerRunnerHour: 2.0,
  resultPageSize: 200,
};

export function resolveStoreConfig(partial: Partial<StoreConfig> = {}): StoreConfig {
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  return { ...DEFAULT_STORE_CONFIG, ...defined };
}

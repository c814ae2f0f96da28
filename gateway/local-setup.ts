// Start-up pieces shared by the entries (node.ts, deno.ts, worker.ts): numbers from the environment,
// the store's settings, and the local tenant's client key (DMS_API_KEY, or one created and printed once).
import type { JobStore } from '../db/job-store.js';

export const LOCAL_TENANT = 'local';

/** process.env, Deno's env, or a Worker's env (whose bindings are objects, never read as numbers here). */
type Env = Readonly<Record<string, unknown>>;

/** A number from the environment; unset or empty gives the fallback, anything else must parse. */
export function envNumber(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value)) throw new Error(`${name} must be a number, got "${String(raw)}"`);
  return value;
}

/** Price, attempts and lease length of the job store (DMS_PRICE_PER_RUNNER_HOUR, DMS_MAX_ATTEMPTS, DMS_LEASE_SECONDS). */
export function storeSettingsFromEnv(env: Env): { pricePerRunnerHour: number; maxAttempts: number; leaseMs: number } {
  return {
    pricePerRunnerHour: envNumber(env, 'DMS_PRICE_PER_RUNNER_HOUR', 2.0),
    maxAttempts: envNumber(env, 'DMS_MAX_ATTEMPTS', 3),
    leaseMs: envNumber(env, 'DMS_LEASE_SECONDS', 60) * 1000,
  };
}

/** The local tenant, and DMS_API_KEY as its key when set (only its hash is stored); true when a key was added. */
export async function addConfiguredKey(store: JobStore, env: Env): Promise<boolean> {
  await store.ensureTenant(LOCAL_TENANT, 'local');
  const key = env.DMS_API_KEY;
  if (typeof key !== 'string' || key === '') return false;
  await store.addApiKey(LOCAL_TENANT, key, 'DMS_API_KEY');
  return true;
}

/** Makes sure a client key exists: DMS_API_KEY if set, else a new one printed once (only its hash is stored). */
export async function ensureClientKey(store: JobStore, env: Env): Promise<void> {
  if (await addConfiguredKey(store, env)) return;
  if ((await store.countApiKeys()) > 0) {
    console.log('API keys exist in this data dir (shown once when created); set DMS_API_KEY to add a known key');
    return;
  }
  const key = await store.createApiKey(LOCAL_TENANT, 'created at first start');
  console.log(`created API key (shown only now, only its hash is stored): ${key}`);
}

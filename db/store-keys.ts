// Tenants and client API keys: keys are random secrets stored only as SHA-256 hashes; a key
// resolves to its tenant. Runner tokens are not stored here: they come from the deployment's env.
import { and, count, eq, isNull } from 'drizzle-orm';
import { newApiKey, randomId, sha256Hex } from './ids.js';
import type { SqlDb } from './sql-db.js';
import type { StoreConfig } from './store-config.js';

export interface KeyStore {
  /** Creates the tenant if it does not exist yet. */
  ensureTenant(tenantId: string, name?: string): Promise<void>;
  /** Stores the hash of a key the operator chose (e.g. DMS_API_KEY); a no-op if already stored. */
  addApiKey(tenantId: string, rawKey: string, label?: string): Promise<void>;
  /** Generates a new key for the tenant; the raw key is returned once and never stored. */
  createApiKey(tenantId: string, label?: string): Promise<string>;
  /** The tenant owning a live key, or null. */
  tenantForKey(rawKey: string): Promise<string | null>;
  countApiKeys(): Promise<number>;
}

export function createKeyStore({ db, tables: { apiKeys, tenants } }: SqlDb, cfg: StoreConfig): KeyStore {
  async function insertKey(tenantId: string, rawKey: string, label?: string): Promise<void> {
    await db
      .insert(apiKeys)
      .values({ id: randomId('key'), tenantId, keyHash: await sha256Hex(rawKey), label: label ?? null, createdAt: cfg.clock() })
      .onConflictDoNothing({ target: apiKeys.keyHash });
  }

  return {
    async ensureTenant(tenantId, name) {
      await db
        .insert(tenants)
        .values({ id: tenantId, name: name ?? tenantId, createdAt: cfg.clock() })
        .onConflictDoNothing();
    },
    addApiKey: insertKey,
    async createApiKey(tenantId, label) {
      const key = newApiKey();
      await insertKey(tenantId, key, label);
      return key;
    },
    async tenantForKey(rawKey) {
      const hash = await sha256Hex(rawKey);
      const [row] = await db
        .select({ tenantId: apiKeys.tenantId })
        .from(apiKeys)
        .where(and(eq(apiKeys.keyHash, hash), isNull(apiKeys.revokedAt)))
        .limit(1);
      return row?.tenantId ?? null;
    },
    async countApiKeys() {
      const [row] = await db.select({ n: count() }).from(apiKeys).where(isNull(apiKeys.revokedAt));
      return row?.n ?? 0;
    },
  };
}

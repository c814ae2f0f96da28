// Bearer authentication: client API keys resolve to a tenant through the store (hash lookup);
// runner tokens come from the deployment's config. Each kind is refused on the other's routes.
import type { MiddlewareHandler } from 'hono';
import { sha256Hex } from '../db/ids.js';
import type { JobStore } from '../db/job-store.js';
import { constantTimeIncludes } from './constant-time.js';
import { apiError } from './http-errors.js';

/** Runner tokens the runner API accepts (raw secrets from the environment; hashed on first use). */
export type AuthConfig = { runnerTokens: string[] };

/** SHA-256 hex of a UTF-8 string; WebCrypto by default, entries may pass a synchronous one (node:crypto). */
export type Digest = (text: string) => string | Promise<string>;

/** Set by clientAuth: the caller's tenant, and `keyId` (SHA-256 of the key) for per-key limits. */
export type ClientEnv = { Variables: { tenantId: string; keyId: string } };

/** Longest bearer credential looked at; anything longer is refused before hashing. */
const MAX_TOKEN_LENGTH = 512;

function bearer(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match && match[1].length <= MAX_TOKEN_LENGTH ? match[1] : null;
}

const unauthorized = (c: Parameters<MiddlewareHandler>[0], message: string) => {
  c.header('WWW-Authenticate', 'Bearer');
  return apiError(c, 401, 'unauthorized', message);
};

/** How long a verified key's digest -> tenant answer is reused before the store is asked again. */
export const KEY_CACHE_MS = 5_000;
const KEY_CACHE_SIZE = 10_000;

/**
 * Requires a client API key and sets `tenantId` and `keyId`; runner tokens are not client keys (401).
 * Keys are stored only as SHA-256 digests and looked up by digest: the lookup's timing depends on
 * the digest of what the caller sent, never on a prefix of a stored key, so it reveals nothing.
 * Verified digests (never raw keys) are remembered for KEY_CACHE_MS, so a revoked key may work
 * that much longer; invalid keys are never cached.
 */
export function clientAuth(store: JobStore, digest: Digest = sha256Hex, clock: () => number = () => performance.now()): MiddlewareHandler<ClientEnv> {
  const verified = new Map<string, { tenantId: string; until: number }>();
  return async (c, next) => {
    const token = bearer(c.req.header('authorization'));
    if (!token) return unauthorized(c, 'missing bearer API key');
    const keyId = await digest(token);
    const now = clock();
    const hit = verified.get(keyId);
    let tenantId = hit && hit.until > now ? hit.tenantId : null;
    if (!tenantId) {
      tenantId = await store.tenantForKey(token);
      if (!tenantId) return unauthorized(c, 'invalid API key');
      if (verified.size >= KEY_CACHE_SIZE) verified.clear();
      verified.set(keyId, { tenantId, until: now + KEY_CACHE_MS });
    }
    c.set('tenantId', tenantId);
    c.set('keyId', keyId);
    await next();
  };
}

/**
 * Requires a runner token; a valid client key gets 403, anything else 401. The presented token's
 * digest is compared in constant time against every configured token's digest.
 */
export function runnerAuth(store: JobStore, auth: AuthConfig, digest: Digest = sha256Hex): MiddlewareHandler {
  let hashes: Promise<string[]> | null = null;
  return async (c, next) => {
    const token = bearer(c.req.header('authorization'));
    if (!token) return unauthorized(c, 'missing bearer runner token');
    hashes ??= Promise.all(auth.runnerTokens.filter((t) => t.length > 0).map(sha256Hex));
    if (constantTimeIncludes(await hashes, await digest(token))) return next();
    if (await store.tenantForKey(token)) return apiError(c, 403, 'forbidden', 'client API keys cannot use the runner API');
    return unauthorized(c, 'invalid runner token');
  };
}

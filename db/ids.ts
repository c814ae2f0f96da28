// Random identifiers and hashing on WebCrypto, which Node 20, Workers and Deno all provide:
// job ids, lease tokens, API keys, and the SHA-256 under which keys are stored.

/** `prefix_` followed by `bytes` random bytes as lowercase hex. */
export function randomId(prefix: string, bytes = 12): string {
  const buf = crypto.getRandomValues(new Uint8Array(bytes));
  return `${prefix}_${Array.from(buf, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** A secret for a client API key: `dms_` and 32 random bytes, base64url. */
export function newApiKey(): string {
  const buf = crypto.getRandomValues(new Uint8Array(32));
  const b64 = btoa(String.fromCharCode(...buf));
  return `dms_${b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`;
}

/** SHA-256 of a UTF-8 string, lowercase hex. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** JSON with object keys sorted, so that equal values hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

// Constant-time string comparison for secrets (token hashes): the time taken depends only on the
// lengths, never on where the first differing character is. Runtime-free (no node:crypto).

/**
 * True when `a` and `b` are the same string. Every character of the longer input is visited and
 * differences are OR-ed together, so there is no early exit an attacker could time. Intended for
 * fixed-length values such as SHA-256 hex digests, where the lengths themselves reveal nothing.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const length = Math.max(a.length, b.length);
  let diff = a.length ^ b.length;
  for (let i = 0; i < length; i++) {
    // charCodeAt past the end is NaN; `| 0` makes it 0 so the loop shape never changes.
    diff |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  }
  return diff === 0;
}

/** True when `candidate` equals any of `secrets`; compares against all of them, always. */
export function constantTimeIncludes(secrets: readonly string[], candidate: string): boolean {
  let found = false;
  for (const secret of secrets) found = constantTimeEqual(secret, candidate) || found;
  return found;
}

// The signed-in API key: kept in sessionStorage (gone when the tab closes), never in a URL,
// a cookie or a log; api.ts sends it as a Bearer header.

const KEY = 'dms.apiKey';

export function apiKey(): string | null {
  return sessionStorage.getItem(KEY);
}

export function signIn(key: string): void {
  sessionStorage.setItem(KEY, key);
}

export function signOut(): void {
  sessionStorage.removeItem(KEY);
}

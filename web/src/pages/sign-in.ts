// Sign-in: the API key is checked with one authenticated read, then kept in sessionStorage only.
// The form never submits to the server (no action, so the key can never land in a URL).
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { signIn } from '../session.js';

export function SignIn({ onSignedIn, notice }: { onSignedIn: () => void; notice: string | null }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const value = key.trim();
    if (!value) return;
    setBusy(true);
    setError(null);
    try {
      await api.verifyKey(value);
      signIn(value);
      setKey('');
      onSignedIn();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return html`<main class="sign-in">
    <h1>dms-batch console</h1>
    <form onSubmit=${submit} autocomplete="off">
      <label for="api-key">API key</label>
      <input id="api-key" name="api-key" type="password" value=${key} onInput=${(e: Event) => setKey((e.target as HTMLInputElement).value)} autofocus />
      <button type="submit" disabled=${busy}>Sign in</button>
    </form>
    ${notice ? html`<p class="notice">${notice}</p>` : ''} ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
    <p class="muted">The key stays in this tab's session storage and is sent only as a Bearer header.</p>
  </main>`;
}

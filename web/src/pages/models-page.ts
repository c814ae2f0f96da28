// The models the gateway serves: architecture, size, dtype, context, methods, DMS ratios and window,
// backend, each shown when /v1/models reports it (either the catalog or the OpenAI list shape).
import { api } from '../api.js';
import { int } from '../format.js';
import { html } from '../html.js';
import { normalizeModels } from '../models.js';
import { usePoll } from '../use-poll.js';

const dash = (v: string | number | null) => (v === null || v === '' ? '—' : String(v));

export function ModelsPage() {
  const poll = usePoll(
    async () => normalizeModels(await api.models()),
    60_000,
    () => false,
    [],
  );
  const models = poll.value;
  return html`<main>
    <h1>Models</h1>
    ${poll.error ? html`<p class="error" role="alert">${poll.error}</p>` : ''}
    ${
      !models
        ? html`<p class="muted">Loading…</p>`
        : html`<table data-testid="models-table">
            <thead><tr><th>Model</th><th>Architecture</th><th class="num">Parameters</th><th>dtype</th><th class="num">Context</th><th>Methods</th><th>DMS ratios</th><th class="num">Window</th><th>Backend</th></tr></thead>
            <tbody>
              ${models.map(
                (m) => html`<tr data-model=${m.name}>
                  <td><strong>${m.name}</strong>${m.isDefault ? html` <span class="badge">default</span>` : ''}</td>
                  <td>${dash(m.architecture)}</td>
                  <td class="num">${m.parameters === null ? '—' : int(m.parameters)}</td>
                  <td>${dash(m.dtype)}</td>
                  <td class="num">${m.context === null ? '—' : int(m.context)}</td>
                  <td>${m.methods.join(', ') || '—'}</td>
                  <td>${m.dmsRatios.join(', ') || '—'}</td>
                  <td class="num">${dash(m.window)}</td>
                  <td>${dash(m.backend)}</td>
                </tr>`,
              )}
            </tbody>
          </table>`
    }
  </main>`;
}

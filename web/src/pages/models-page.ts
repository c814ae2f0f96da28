// The models the gateway serves: architecture, size, dtype, context, methods, DMS ratios and window,
// backend, each shown when /v1/models reports it (either the catalog or the OpenAI list shape);
// where a model names no backend, the backends of the runners /healthz has seen stand in.
import { api } from '../api.js';
import { int, time } from '../format.js';
import { html } from '../html.js';
import { normalizeModels } from '../models.js';
import { usePoll } from '../use-poll.js';

const dash = (v: string | number | null) => (v === null || v === '' ? '—' : String(v));

export function ModelsPage() {
  const poll = usePoll(
    async () => {
      const [models, health] = await Promise.all([api.models(), api.health().catch(() => ({ runners: [] }))]);
      return { models: normalizeModels(models), runners: health.runners ?? [] };
    },
    10_000,
    () => true,
    [],
  );
  const models = poll.value?.models;
  const runners = poll.value?.runners ?? [];
  const runnerBackends = [...new Set(runners.map((r) => r.backend).filter((b): b is string => !!b))].join(', ') || null;
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
                  <td>${dash(m.backend ?? (runnerBackends ? `${runnerBackends} (runners)` : null))}</td>
                </tr>`,
              )}
            </tbody>
          </table>`
    }
    <h2>Runners seen in the last 5 minutes</h2>
    ${
      runners.length === 0
        ? html`<p class="muted">None yet: a runner appears here after its first claim.</p>`
        : html`<table data-testid="runners-table">
            <thead><tr><th>Runner</th><th>Backend</th><th>Last seen</th></tr></thead>
            <tbody>${runners.map((r) => html`<tr><td><code>${r.runner_id}</code></td><td>${dash(r.backend)}</td><td>${time(r.last_seen_at)}</td></tr>`)}</tbody>
          </table>`
    }
  </main>`;
}

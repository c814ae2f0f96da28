// The job page's table of requests: prompt, method and ratio, status, answer, tokens, KV reads,
// peak KV, achieved ratio, timings, and the threads (text, answer, finish reason) folded away.
import { useState } from 'preact/hooks';
import { fixed, int } from '../format.js';
import { html } from '../html.js';
import type { Row } from '../job-rows.js';

function Threads({ row }: { row: Row }) {
  const threads = row.result?.threads ?? [];
  if (threads.length === 0) return row.result?.error ? html`<span class="bad">${row.result.error.code}: ${row.result.error.message}</span>` : '';
  return html`<details>
    <summary>${threads.length} thread${threads.length === 1 ? '' : 's'}</summary>
    <ol class="threads">
      ${threads.map(
        (t) => html`<li>
          <div class="muted small">answer <strong>${t.answer ?? '—'}</strong> · ${t.finish_reason} · ${t.completion_tokens} tokens</div>
          <pre class="thread-text">${t.text}</pre>
        </li>`,
      )}
    </ol>
  </details>`;
}

/** Rows rendered before "Show all": a 10,000-request job would otherwise build a very large table. */
const FIRST_ROWS = 500;

export function RequestsTable({ rows }: { rows: Row[] }) {
  const [all, setAll] = useState(false);
  const shown = all ? rows : rows.slice(0, FIRST_ROWS);
  return html`<table class="requests" data-testid="requests-table">
    <thead>
      <tr>
        <th>custom_id</th><th>Prompt</th><th>Method</th><th>Status</th><th>Answer</th><th>Correct</th><th class="num">Tokens</th>
        <th class="num">KV reads</th><th class="num">Peak KV</th><th class="num">Achieved</th><th class="num">TTFT ms</th><th class="num">Total ms</th><th>Threads</th>
      </tr>
    </thead>
    <tbody>
      ${shown.map((row) => {
        const r = row.result;
        const u = r?.usage;
        const correct = typeof r?.correct === 'boolean' ? (r.correct ? 'yes' : 'no') : '—';
        return html`<tr key=${row.customId} data-custom-id=${row.customId}>
          <td><code>${row.customId}</code></td>
          <td><pre class="prompt">${row.prompt ?? '—'}</pre></td>
          <td>${row.method}${row.requestedRatio !== null && row.method !== 'none' ? ` ×${row.requestedRatio}` : ''}</td>
          <td>${row.status}</td>
          <td class="answer">${r?.answer ?? '—'}</td>
          <td>${correct}</td>
          <td class="num">${int(u?.completion_tokens)}</td>
          <td class="num">${int(u?.kv_token_reads)}</td>
          <td class="num">${int(u?.peak_kv_tokens)}</td>
          <td class="num">${fixed(u?.achieved_ratio)}</td>
          <td class="num">${fixed(r?.timings?.ttft_ms, 1)}</td>
          <td class="num">${fixed(r?.timings?.total_ms, 1)}</td>
          <td><${Threads} row=${row} /></td>
        </tr>`;
      })}
    </tbody>
  </table>
  ${shown.length < rows.length ? html`<button onClick=${() => setAll(true)}>Show all ${rows.length} requests</button>` : ''}`;
}

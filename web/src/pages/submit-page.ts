// Submit a batch: drop a JSONL file (or pick one), check it here, choose the job defaults (model,
// method, ratio, n, max tokens) from the catalog, and POST it as one job; then open the job page.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { type ParsedFile, parseJsonl } from '../jsonl.js';
import { type ModelInfo, normalizeModels } from '../models.js';
import { jobHref, navigate } from '../router.js';

type Defaults = { model: string; method: string; ratio: string; n: string; maxTokens: string; temperature: string };

const PREVIEW = 5;

function defaultsBody(d: Defaults): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (d.n) out.n = Number(d.n);
  if (d.maxTokens) out.max_tokens = Number(d.maxTokens);
  if (d.temperature) out.temperature = Number(d.temperature);
  if (d.method) out.compression = d.method === 'none' ? { method: 'none' } : { method: d.method, ratio: Number(d.ratio) };
  return out;
}

export function SubmitPage() {
  const [models, setModels] = useState<ModelInfo[]>([]);
  const [file, setFile] = useState<{ name: string; parsed: ParsedFile } | null>(null);
  const [over, setOver] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [d, setD] = useState<Defaults>({ model: '', method: 'none', ratio: '', n: '1', maxTokens: '256', temperature: '' });

  useEffect(() => {
    api
      .models()
      .then((body) => {
        const list = normalizeModels(body);
        setModels(list);
        const chosen = list.find((m) => m.isDefault) ?? list[0];
        if (chosen) setD((old) => ({ ...old, model: old.model || chosen.name }));
      })
      .catch((e) => setError((e as Error).message));
  }, []);

  const model = models.find((m) => m.name === d.model);
  const methods = model?.methods.length ? model.methods : ['none'];
  const set = (k: keyof Defaults) => (e: Event) => setD({ ...d, [k]: (e.target as HTMLInputElement).value });
  const setMethod = (e: Event) => {
    const method = (e.target as HTMLSelectElement).value;
    const ratio = method === 'dms' ? String(model?.dmsRatios[0] ?? '') : method === 'none' ? '' : d.ratio || '2';
    setD({ ...d, method, ratio });
  };

  const read = async (f: File | undefined) => {
    if (!f) return;
    setError(null);
    const parsed = parseJsonl(await f.text());
    setFile({ name: f.name, parsed });
    if (parsed.model && models.some((m) => m.name === parsed.model)) setD((old) => ({ ...old, model: parsed.model! }));
  };

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    void read(e.dataTransfer?.files?.[0]);
  };

  const submit = async () => {
    if (!file || file.parsed.errors.length) return;
    setBusy(true);
    setError(null);
    try {
      const job = await api.submit({
        model: d.model || undefined,
        requests: file.parsed.requests,
        defaults: defaultsBody(d),
        metadata: { file: file.name.slice(0, 512) },
      });
      navigate(jobHref(job.id));
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const ready = file && file.parsed.errors.length === 0 && !busy;
  return html`<main>
    <h1>Submit a batch</h1>
    <div
      class=${`dropzone${over ? ' over' : ''}`}
      data-testid="dropzone"
      onDragOver=${(e: DragEvent) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave=${() => setOver(false)}
      onDrop=${onDrop}
    >
      <p>Drop a JSONL file here: one request per line, <code>{"custom_id", "prompt", "params"?}</code> or an OpenAI batch line.</p>
      <label class="button">Choose a file<input type="file" class="visually-hidden" accept=".jsonl,.ndjson,.json,.txt" data-testid="file-input"
        onChange=${(e: Event) => read((e.target as HTMLInputElement).files?.[0])} /></label>
    </div>
    ${
      file
        ? html`<section data-testid="file-summary">
            <p><strong>${file.name}</strong>: ${file.parsed.requests.length} request${file.parsed.requests.length === 1 ? '' : 's'}</p>
            ${file.parsed.errors.length ? html`<ul class="error">${file.parsed.errors.map((e) => html`<li>${e}</li>`)}</ul>` : ''}
            <table class="preview">
              <thead><tr><th>custom_id</th><th>Prompt</th></tr></thead>
              <tbody>${file.parsed.requests.slice(0, PREVIEW).map((r) => html`<tr><td><code>${r.custom_id}</code></td><td><pre class="prompt">${r.prompt}</pre></td></tr>`)}</tbody>
            </table>
            ${file.parsed.requests.length > PREVIEW ? html`<p class="muted">… and ${file.parsed.requests.length - PREVIEW} more</p>` : ''}
          </section>`
        : ''
    }
    <fieldset class="defaults">
      <legend>Job defaults (a line's own params win)</legend>
      <label>Model <select data-testid="model" value=${d.model} onChange=${set('model')}>${models.map((m) => html`<option value=${m.name}>${m.name}</option>`)}</select></label>
      <label>Method <select data-testid="method" value=${d.method} onChange=${setMethod}>${methods.map((m) => html`<option value=${m}>${m}</option>`)}</select></label>
      <label>Ratio ${
        d.method === 'dms'
          ? html`<select data-testid="ratio" value=${d.ratio} onChange=${set('ratio')}>${(model?.dmsRatios ?? []).map((r) => html`<option value=${String(r)}>${r}</option>`)}</select>`
          : html`<input data-testid="ratio" type="number" min="1" step="0.5" value=${d.ratio} disabled=${d.method === 'none'} onInput=${set('ratio')} />`
      }</label>
      <label>Threads (n) <input data-testid="n" type="number" min="1" value=${d.n} onInput=${set('n')} /></label>
      <label>Max tokens <input data-testid="max-tokens" type="number" min="1" value=${d.maxTokens} onInput=${set('maxTokens')} /></label>
      <label>Temperature <input data-testid="temperature" type="number" min="0" max="2" step="0.1" placeholder="0.7" value=${d.temperature} onInput=${set('temperature')} /></label>
    </fieldset>
    ${error ? html`<p class="error" role="alert">${error}</p>` : ''}
    <button class="primary" data-testid="submit" disabled=${!ready} onClick=${submit}>Submit job</button>
  </main>`;
}

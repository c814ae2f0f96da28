// Placeholder app while the pipeline is checked.
import { html } from './html.js';

export function App() {
  return html`<p>hello</p>`;
}

// The hyper-scaling plots of bench/results/ (bundled with the console at build time): accuracy
// against KV token reads and against peak KV memory for every method, and the DMS ablation.
import { html } from '../html.js';

const PLOTS = [
  [
    'hyperscale-reads.svg',
    'Accuracy vs KV token reads per problem',
    'Each point is one (method, ratio, W threads, L tokens) setting; the frontier per method is drawn.',
  ],
  ['hyperscale-peak.svg', 'Accuracy vs peak KV memory per problem', 'The same grid against the most KV tokens held at once.'],
  [
    'hyperscale-ablation.svg',
    'Delayed vs immediate eviction',
    'DMS at ratio 4 with its window of 16 (dms) against immediate eviction (dms-w0), at equal KV reads.',
  ],
];

export function ChartsPage() {
  return html`<main>
    <h1>Hyper-scaling</h1>
    <p>From <code>npm run bench:hyperscale</code> (<code>bench/results/hyperscale.md</code>): at equal KV reads or memory, compressed runs afford more threads or longer chains.</p>
    ${PLOTS.map(
      ([file, title, caption]) => html`<figure class="plot">
        <img src=${`/ui/plots/${file}`} alt=${title} loading="lazy" />
        <figcaption><strong>${title}.</strong> ${caption}</figcaption>
      </figure>`,
    )}
  </main>`;
}

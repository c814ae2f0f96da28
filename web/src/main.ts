// Entry of the console: mounts the app into #app.
// The page is a hash-routed single page, so the gateway serves one index.html for every view.
import { render } from 'preact';
import { html } from './html.js';
import { App } from './app.js';
import './style.css';

render(html`<${App} />`, document.getElementById('app')!);

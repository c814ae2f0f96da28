// The committed console bundle (gateway/ui-assets.ts) must be what web/ builds to today, and the
// gateway must serve it at /ui/ with a CSP that forbids inline script, and HTML free of inline code.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_CSP } from '../../gateway/routes/ui.js';
import { UI_ASSETS } from '../../gateway/ui-assets.js';
import { buildUiAssets, renderUiModule, UI_MODULE_PATH } from '../../web/build.js';
import { type Harness, makeHarness } from '../gateway/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await makeHarness();
});
afterAll(() => h.close());

describe('console bundle', () => {
  it('is up to date with web/ and bench/results (run `npm run build:ui` when this fails)', async () => {
    const fresh = renderUiModule(await buildUiAssets());
    expect(fresh === readFileSync(UI_MODULE_PATH, 'utf8'), 'gateway/ui-assets.ts is stale: run `npm run build:ui` and commit it').toBe(true);
  }, 120_000);

  it('has an index.html without inline scripts, inline styles or event-handler attributes', () => {
    const index = UI_ASSETS['index.html'].body;
    const scripts = [...index.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/\bsrc="\/ui\/assets\//);
      expect(body.trim()).toBe('');
    }
    expect(index).not.toMatch(/<style\b/i);
    expect(index).not.toMatch(/\sstyle=/i);
    expect(index).not.toMatch(/\son[a-z]+=/i);
    expect(Object.keys(UI_ASSETS)).toEqual(expect.arrayContaining(['plots/hyperscale-reads.svg', 'plots/hyperscale-peak.svg', 'favicon.svg']));
  });
});

describe('GET /ui', () => {
  it('serves index.html and its assets with the CSP and cache headers', async () => {
    expect((await h.call('GET', '/', { token: null })).headers.get('location')).toBe('/ui/');
    expect((await h.call('GET', '/ui', { token: null })).headers.get('location')).toBe('/ui/');
    const index = await h.call('GET', '/ui/', { token: null });
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = index.headers.get('content-security-policy');
    expect(csp).toBe(CONSOLE_CSP);
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(index.headers.get('x-content-type-options')).toBe('nosniff');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const html = await index.text();
    const js = /src="\/ui\/(assets\/[^"]+\.js)"/.exec(html)![1];
    const script = await h.call('GET', `/ui/${js}`, { token: null });
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(script.headers.get('cache-control')).toMatch(/immutable/);
    expect(await script.text()).toBe(UI_ASSETS[js].body);
    const plot = await h.call('GET', '/ui/plots/hyperscale-reads.svg', { token: null });
    expect(plot.headers.get('content-type')).toBe('image/svg+xml');
    expect(plot.headers.get('content-security-policy')).toMatch(/sandbox/);
    expect((await h.call('GET', '/ui/nope.js', { token: null })).status).toBe(404);
  });
});

// The browser console at /ui/: the prebuilt assets of gateway/ui-assets.ts (web/, built by Vite),
// with a Content-Security-Policy that allows only the console's own scripts, styles and images.
import { Hono } from 'hono';
import { UI_ASSETS, type UiAsset } from '../ui-assets.js';
import { apiError } from '../http-errors.js';

/** No inline script or style, no eval, no third-party origin; the API is reached on the same origin. */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Plots opened on their own keep their inline styles but can run nothing (sandboxed, no script). */
const IMAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

function decode(a: UiAsset): string | Uint8Array<ArrayBuffer> {
  if (!a.base64) return a.body;
  const bin = atob(a.body);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

export function uiRoutes(assets: Record<string, UiAsset> = UI_ASSETS) {
  const bodies = new Map(Object.entries(assets).map(([path, a]) => [path, decode(a)]));
  const serve = (path: string) => {
    const a = assets[path];
    if (!a) return null;
    const headers: Record<string, string> = {
      'Content-Type': a.type,
      'Content-Security-Policy': a.type.startsWith('image/') ? IMAGE_CSP : CONSOLE_CSP,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
      // File names under assets/ carry a content hash; everything else may change with a deploy.
      'Cache-Control': path.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    };
    return new Response(bodies.get(path)!, { status: 200, headers });
  };

  return new Hono()
    .get('/', (c) => c.redirect('/ui/'))
    .get('/ui', (c) => c.redirect('/ui/'))
    .get('/ui/', () => serve('index.html')!)
    .get('/ui/*', (c) => serve(c.req.path.slice('/ui/'.length)) ?? apiError(c, 404, 'not_found', `no console asset ${c.req.path}`));
}

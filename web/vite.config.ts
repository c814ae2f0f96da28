// Vite config of the console: built by web/build.ts into gateway/ui-assets.ts and served at /ui/.
// No inlined assets or preload polyfill, so the HTML holds no inline script or style (strict CSP).
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/ui/',
  publicDir: 'public',
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    cssCodeSplit: false,
    sourcemap: false,
    license: false,
    target: 'es2022',
  },
  // `npx vite web` serves the sources with live reload against a gateway on :8787.
  server: { proxy: { '/v1': 'http://localhost:8787', '/healthz': 'http://localhost:8787' } },
});

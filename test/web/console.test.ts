// The console in Chromium (playwright-core, Debian's /usr/bin/chromium) against `npm start`'s
// gateway process with its in-process engine runner on the shipped checkpoints: sign in, submit a
// batch by drag and drop, watch it complete, read its results, cancel a job, see only this tenant's
// jobs, no HTML injection and no console error; /metrics (loopback, prom-client) moved meanwhile.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBetterSqlite } from '../../db/better-sqlite-db.js';
import { createJobStore } from '../../db/job-store.js';
import { parsePrometheusText, sampleValue } from '../metrics/prom-text.js';
import { freePort, killAll, ROOT, type Service, startService } from '../runner-processes/processes.js';

const CHROMIUM = '/usr/bin/chromium';
const KEY = 'dms_console_test_key_0123456789';
const XSS_PROMPT = '<img src=x onerror="window.__xss=1">C1:f7d8c7i.b7g9e2h1a3=';
const haveChromium = existsSync(CHROMIUM);
// CI must run this test: a missing browser there is a broken setup (.ci/system-packages.sh installs it), not a skip.
if (!haveChromium && process.env.CI) throw new Error(`${CHROMIUM} is missing on CI: .ci/system-packages.sh should have installed chromium`);

const dir = mkdtempSync(join(tmpdir(), 'dms-console-'));
let gateway: Service;
let base: string;
let otherKey: string;
let context: BrowserContext;
let page: Page;
const consoleErrors: string[] = [];
const requestedUrls: string[] = [];

const api = async (path: string, init: { method?: string; body?: unknown; key?: string } = {}) => {
  const res = await fetch(`${base}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${init.key ?? KEY}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });
  return { status: res.status, body: await res.json() };
};

beforeAll(async () => {
  if (!haveChromium) return;
  // A second tenant with its own key, written into the database the gateway will open.
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const sqlDb = openBetterSqlite(join(dataDir, 'dms.sqlite'));
  const store = createJobStore(sqlDb);
  await store.ensureTenant('other', 'other');
  otherKey = await store.createApiKey('other');
  sqlDb.close();

  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  gateway = startService(process.execPath, ['--import', 'tsx', 'gateway/node.ts'], {
    env: {
      PORT: String(port),
      DMS_DATA_DIR: dataDir,
      DMS_MODELS_DIR: join(ROOT, 'models'),
      DMS_API_KEY: KEY,
      DMS_LEASE_SECONDS: '3',
      DMS_METRICS_TOKEN: '',
      DMS_RATE_LIMIT_RPS: '0',
    },
  });
  await gateway.waitFor(/listening on/, 60_000);

  context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
  page.on('request', (r) => requestedUrls.push(r.url()));
}, 120_000);

afterAll(async () => {
  await context?.close();
  await gateway?.stop('SIGTERM', 15_000);
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

/** Drops a file on the page's drop zone the way a browser does: a drop event carrying a DataTransfer. */
async function dropFile(name: string, text: string): Promise<void> {
  const transfer = await page.evaluateHandle(
    ({ name, text }) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], name, { type: 'application/x-ndjson' }));
      return dt;
    },
    { name, text },
  );
  await page.dispatchEvent('[data-testid=dropzone]', 'dragover', { dataTransfer: transfer });
  await page.dispatchEvent('[data-testid=dropzone]', 'drop', { dataTransfer: transfer });
}

describe.skipIf(!haveChromium)('console in Chromium', () => {
  it('signs in, submits a batch by drag and drop, follows it to its results, cancels a job and sees only its tenant', async () => {
    await page.goto(`${base}/ui/`);
    await page.fill('#api-key', KEY);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=no-jobs]');
    expect(await page.evaluate(() => sessionStorage.getItem('dms.apiKey'))).toBe(KEY);
    expect(await page.evaluate(() => localStorage.length + document.cookie.length)).toBe(0);
    expect(page.url()).not.toContain(KEY);

    // Submit: three problems of the suite, one prompt carrying markup, mixed methods.
    await page.click('a[href="#/submit"]');
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLOptionElement>('[data-testid=model] option')].some((o) => o.value === 'reasoner'));
    await page.selectOption('[data-testid=method]', 'dms');
    await page.selectOption('[data-testid=ratio]', '4');
    await page.fill('[data-testid=n]', '2');
    await page.fill('[data-testid=max-tokens]', '160');
    await page.fill('[data-testid=temperature]', '0');
    const lines = [
      { custom_id: 'chain-1', prompt: 'C1:f7d8c7i.b7g9e2h1a3=' },
      { custom_id: '<b>markup</b>', prompt: XSS_PROMPT, params: { compression: { method: 'none' } } },
      { custom_id: 'vars-1', prompt: '@:qY sM lE f0 eV dS u3 mZ hD b0 cU yL kF vC gQ zK ?G=', params: { compression: { method: 'tova', ratio: 2 } } },
    ];
    await dropFile('problems.jsonl', `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    await page.waitForSelector('[data-testid=file-summary]');
    expect(await page.textContent('[data-testid=file-summary]')).toContain('3 requests');
    await page.click('[data-testid=submit]');
    await page.waitForURL(/#\/jobs\/job_/);
    const jobId = decodeURIComponent(page.url().split('#/jobs/')[1]);

    // Live progress until the in-process runner finishes it.
    await page.waitForSelector('[data-testid=job-page][data-status=completed]', { timeout: 150_000 });
    expect(await page.textContent('[data-testid=request-counts]')).toMatch(/total3.*succeeded3/);
    const rows = page.locator('[data-testid=requests-table] tbody tr');
    expect(await rows.count()).toBe(3);
    expect(await page.locator('[data-custom-id="chain-1"] td').nth(2).textContent()).toBe('dms ×4');
    expect(await page.locator('[data-custom-id="vars-1"] td').nth(2).textContent()).toBe('tova ×2');
    const usage = (await page.textContent('[data-testid=usage]')) ?? '';
    expect(usage).toMatch(/KV token reads[\d,]+/);
    expect(usage).toMatch(/Requested ratio1, 2, 4/);
    expect(await page.getAttribute('[data-testid=chart-reads]', 'data-points')).toBe('3');
    expect(await page.getAttribute('[data-testid=chart-peak]', 'data-points')).toBe('3');
    await page.click('[data-custom-id="chain-1"] summary');
    expect(await page.locator('[data-custom-id="chain-1"] pre.thread-text').count()).toBe(2);
    // The markup arrived as text: shown literally, never parsed, never run.
    expect(await page.locator('[data-custom-id="<b>markup</b>"] pre.prompt').textContent()).toBe(XSS_PROMPT);
    expect(await page.locator('img[src=x]').count()).toBe(0);
    expect(await page.locator('td b').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    const screenshot = process.env.DMS_UPDATE_SCREENSHOT === '1' ? join(ROOT, 'docs/console-job.png') : join(dir, 'console-job.png');
    await page.screenshot({ path: screenshot, fullPage: true });

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('button:has-text("Download results")')]);
    expect(download.suggestedFilename()).toBe(`${jobId}-results.jsonl`);
    const downloaded = readFileSync((await download.path())!, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(downloaded.map((l) => l.custom_id)).toEqual(['chain-1', '<b>markup</b>', 'vars-1']);

    // A long job to cancel, and another tenant's job that must not be listed.
    // Minutes of work (200 requests x 64 threads), so it is still queued or running when the page cancels it.
    const long = Array.from({ length: 200 }, (_, i) => ({ custom_id: `long-${i}`, prompt: `C1:a${i % 10}b7c3=`, params: { n: 64, max_tokens: 400 } }));
    const toCancel = (await api('/v1/jobs', { method: 'POST', body: { requests: long } })).body;
    const foreign = (await api('/v1/jobs', { method: 'POST', body: { requests: [{ custom_id: 'x', prompt: 'Q:1=' }] }, key: otherKey })).body;
    expect(foreign.id).toMatch(/^job_/);
    await page.click('a[href="#/jobs"]');
    await page.waitForSelector(`tr[data-job-id="${toCancel.id}"]`);
    expect(await page.locator(`tr[data-job-id="${jobId}"] [data-testid=status]`).textContent()).toBe('completed');
    expect(await page.locator(`tr[data-job-id="${foreign.id}"]`).count()).toBe(0);
    expect(await page.locator('[data-testid=jobs-table] tbody tr').count()).toBe(2);
    await page.click(`tr[data-job-id="${toCancel.id}"] [data-testid=cancel]`);
    await page.waitForSelector(`tr[data-job-id="${toCancel.id}"] .status-canceled`, { timeout: 60_000 });
    // The filter is the server's (GET /v1/jobs?status=), so older pages are filtered too, not only the loaded one.
    await page.selectOption('[data-testid=status-filter]', 'completed');
    await page.waitForFunction(
      (id) => document.querySelectorAll('[data-testid=jobs-table] tbody tr').length === 1 && !!document.querySelector(`tr[data-job-id="${id}"]`),
      jobId,
    );
    expect(requestedUrls.some((u) => u.includes('/v1/jobs?limit=50&status=completed'))).toBe(true);
    await page.selectOption('[data-testid=status-filter]', 'canceled');
    await page.waitForSelector(`tr[data-job-id="${toCancel.id}"]`);
    expect(await page.locator('[data-testid=jobs-table] tbody tr').count()).toBe(1);

    await page.click('a[href="#/models"]');
    await page.waitForSelector('tr[data-model=reasoner]');
    expect(await page.textContent('tr[data-model=reasoner]')).toContain('2, 4, 8');
    await page.click('a[href="#/charts"]');
    await page.waitForFunction(() => [...document.querySelectorAll('figure.plot img')].every((i) => (i as HTMLImageElement).naturalWidth > 0));

    await page.click('[data-testid=sign-out]');
    expect(await page.evaluate(() => sessionStorage.getItem('dms.apiKey'))).toBeNull();
    expect(consoleErrors).toEqual([]);
    expect(requestedUrls.length).toBeGreaterThan(10);
    expect(requestedUrls.filter((u) => u.includes(KEY))).toEqual([]);

    // The gateway's metrics moved with the work: loopback, no token set.
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    const metrics = parsePrometheusText(await res.text());
    // The other tenant's one-request job may have run by now: completed or still queued.
    const jobsBy = (status: string) => sampleValue(metrics, 'dms_jobs', { status }) ?? 0;
    expect(jobsBy('canceled')).toBe(1);
    expect(jobsBy('completed')).toBeGreaterThanOrEqual(1);
    expect(jobsBy('completed') + jobsBy('queued') + jobsBy('running')).toBe(2);
    expect(sampleValue(metrics, 'dms_lease_claims_total')).toBeGreaterThanOrEqual(1);
    expect(sampleValue(metrics, 'dms_completion_tokens_total', { method: 'dms' })).toBeGreaterThan(0);
    expect(sampleValue(metrics, 'dms_kv_token_reads_total', { method: 'tova' })).toBeGreaterThan(0);
    expect(sampleValue(metrics, 'dms_achieved_ratio_count', { method: 'dms' })).toBe(1);
    expect(sampleValue(metrics, 'dms_http_requests_total', { route: '/ui/*', method: 'GET', status: '200' })).toBeGreaterThan(0);
    expect(metrics.has('dms_process_cpu_seconds_total')).toBe(true);
    expect((await fetch(`${base}/metrics`, { headers: { 'x-forwarded-for': '198.51.100.1' } })).status).toBe(403);
  }, 300_000);
});

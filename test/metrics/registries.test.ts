// One case suite for both MetricsRegistry implementations (prom-client on Node, the runtime-free
// text registry on Workers and Deno): the same calls must yield the same parsed exposition.
import { describe, expect, it } from 'vitest';
import { PromClientRegistry } from '../../gateway/metrics/prom-client-registry.js';
import type { MetricsRegistry } from '../../gateway/metrics/registry.js';
import { createServiceMetrics } from '../../gateway/metrics/service-metrics.js';
import { TextRegistry } from '../../gateway/metrics/text-registry.js';
import { type Family, parsePrometheusText, sampleValue } from './prom-text.js';

const implementations: Array<[string, () => MetricsRegistry]> = [
  ['prom-client', () => new PromClientRegistry()],
  ['text registry', () => new TextRegistry()],
];

/** The same sequence of updates, including label values that need escaping. */
function exercise(registry: MetricsRegistry): void {
  const c = registry.counter({ name: 't_events_total', help: 'Events with a "quoted" \\ help\nline', labelNames: ['kind'] });
  c.inc({ kind: 'a' });
  c.inc({ kind: 'a' }, 2.5);
  c.inc({ kind: 'we"ird\\\nvalue' });
  registry.counter({ name: 't_plain_total', help: 'No labels', labelNames: [] }).inc();
  registry.counter({ name: 't_untouched_total', help: 'Never moved', labelNames: [] });
  const g = registry.gauge({ name: 't_level', help: 'A gauge', labelNames: ['status', 'zone'] });
  g.set({ status: 'queued', zone: 'z1' }, 3);
  g.set({ zone: 'z1', status: 'queued' }, 4);
  g.set({ status: 'done', zone: 'z2' }, 0.25);
  const h = registry.histogram({ name: 't_ratio', help: 'A histogram', labelNames: ['method'], buckets: [1, 2, 4, 8] });
  for (const v of [1, 1.5, 3.2, 9, 2]) h.observe({ method: 'dms' }, v);
  h.observe({ method: 'none' }, 1);
}

/** Families as plain data, series sorted, so that order of output lines does not matter. */
function normalized(families: Map<string, Family>) {
  return [...families.values()]
    .map((f) => ({ ...f, samples: [...f.samples].map((s) => JSON.stringify([s.name, Object.entries(s.labels).sort(), s.value])).sort() }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

describe.each(implementations)('%s', (_name, make) => {
  it('renders valid exposition text with the expected values', async () => {
    const registry = make();
    exercise(registry);
    expect(registry.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusText(await registry.render());
    expect(families.get('t_events_total')).toMatchObject({ type: 'counter', help: 'Events with a "quoted" \\ help\nline' });
    expect(sampleValue(families, 't_events_total', { kind: 'a' })).toBe(3.5);
    expect(sampleValue(families, 't_events_total', { kind: 'we"ird\\\nvalue' })).toBe(1);
    expect(sampleValue(families, 't_plain_total')).toBe(1);
    expect(sampleValue(families, 't_untouched_total')).toBe(0);
    expect(sampleValue(families, 't_level', { status: 'queued', zone: 'z1' })).toBe(4);
    expect(sampleValue(families, 't_ratio_bucket', { method: 'dms', le: '2' })).toBe(3);
    expect(sampleValue(families, 't_ratio_bucket', { method: 'dms', le: '+Inf' })).toBe(5);
    expect(sampleValue(families, 't_ratio_sum', { method: 'dms' })).toBeCloseTo(16.7);
    expect(sampleValue(families, 't_ratio_count', { method: 'none' })).toBe(1);
  });

  it('refuses a second metric of the same name', () => {
    const registry = make();
    registry.counter({ name: 't_dup_total', help: 'x', labelNames: [] });
    expect(() => registry.gauge({ name: 't_dup_total', help: 'x', labelNames: [] })).toThrow();
  });
});

describe('both registries', () => {
  it('give the same parsed exposition for the same updates', async () => {
    const [a, b] = implementations.map(([, make]) => make());
    exercise(a);
    exercise(b);
    expect(normalized(parsePrometheusText(await b.render()))).toEqual(normalized(parsePrometheusText(await a.render())));
  });

  it('give the gateway the same metric names and types', async () => {
    const [a, b] = implementations.map(([, make]) => createServiceMetrics(make()));
    for (const m of [a, b]) {
      m.result('succeeded', 'dms', {
        prompt_tokens: 5,
        completion_tokens: 9,
        kv_token_reads: 100,
        kv_token_reads_per_head: 10,
        prefill_kv_token_reads: 5,
        peak_kv_tokens: 8,
        peak_kv_tokens_per_head: 1,
        peak_kv_bytes: 64,
        achieved_ratio: 2.5,
        runner_seconds: 0.1,
      });
      m.http('/v1/jobs/:id', 'GET', 200, 0.003);
      m.claim();
      m.stale('heartbeat');
    }
    const types = async (m: typeof a) => [...parsePrometheusText(await m.registry.render()).values()].map((f) => [f.name, f.type]).sort();
    expect(await types(b)).toEqual(await types(a));
    expect((await types(a)).map(([n]) => n)).toEqual(
      expect.arrayContaining(['dms_kv_token_reads_total', 'dms_achieved_ratio', 'dms_lease_claims_total', 'dms_http_request_duration_seconds']),
    );
  });
});

// The Node implementation of MetricsRegistry on prom-client (one Registry per gateway, plus
// prom-client's default process metrics). Imported by node.ts only: prom-client needs Node built-ins.
import client from 'prom-client';
import type { Counter, Gauge, Histogram, HistogramSpec, Labels, MetricSpec, MetricsRegistry } from './registry.js';

export class PromClientRegistry implements MetricsRegistry {
  private readonly registry = new client.Registry();

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics) client.collectDefaultMetrics({ register: this.registry, prefix: 'dms_' });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  counter(spec: MetricSpec): Counter {
    const metric = new client.Counter({ name: spec.name, help: spec.help, labelNames: [...spec.labelNames], registers: [this.registry] });
    return { inc: (labels?: Labels, value = 1) => (labels ? metric.inc(labels, value) : metric.inc(value)) };
  }

  gauge(spec: MetricSpec): Gauge {
    const metric = new client.Gauge({ name: spec.name, help: spec.help, labelNames: [...spec.labelNames], registers: [this.registry] });
    return { set: (labels: Labels, value: number) => metric.set(labels, value) };
  }

  histogram(spec: HistogramSpec): Histogram {
    const metric = new client.Histogram({
      name: spec.name,
      help: spec.help,
      labelNames: [...spec.labelNames],
      buckets: [...spec.buckets],
      registers: [this.registry],
    });
    return { observe: (labels: Labels, value: number) => metric.observe(labels, value) };
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}

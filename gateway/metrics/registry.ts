// The one metrics interface the gateway writes to: counters, gauges and histograms with labels,
// rendered as Prometheus text. prom-client backs it on Node; text-registry.ts everywhere else.

export type Labels = Record<string, string>;

export type MetricSpec = { name: string; help: string; labelNames: readonly string[] };
export type HistogramSpec = MetricSpec & { buckets: readonly number[] };

export interface Counter {
  inc(labels?: Labels, value?: number): void;
}

export interface Gauge {
  set(labels: Labels, value: number): void;
}

export interface Histogram {
  observe(labels: Labels, value: number): void;
}

export interface MetricsRegistry {
  counter(spec: MetricSpec): Counter;
  gauge(spec: MetricSpec): Gauge;
  histogram(spec: HistogramSpec): Histogram;
  /** The exposition text (format 0.0.4) of every metric registered so far. */
  render(): Promise<string>;
  /** Content-Type of `render()`'s text. */
  readonly contentType: string;
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

// A runtime-free Prometheus registry (no Node built-ins), for Workers and Deno: the same metric
// names and text format as prom-client, so dashboards work whichever runtime serves the gateway.
import {
  type Counter,
  type Gauge,
  type Histogram,
  type HistogramSpec,
  type Labels,
  type MetricSpec,
  type MetricsRegistry,
  PROMETHEUS_CONTENT_TYPE,
} from './registry.js';

type Series = { labels: Labels; value: number };
type HistogramSeries = { labels: Labels; counts: number[]; sum: number; count: number };

const escapeHelp = (text: string) => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabel = (text: string) => escapeHelp(text).replace(/"/g, '\\"');

/** Prometheus spells infinities and NaN its own way; integers and floats print as JavaScript does. */
function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

function formatLabels(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

/** Series are keyed by their label values in the spec's label order, so {a,b} and {b,a} are one series. */
function keyOf(spec: MetricSpec, labels: Labels = {}): string {
  for (const name of Object.keys(labels)) {
    if (!spec.labelNames.includes(name)) throw new Error(`${spec.name}: unknown label "${name}"`);
  }
  return JSON.stringify(spec.labelNames.map((n) => labels[n] ?? ''));
}

function ordered(spec: MetricSpec, labels: Labels = {}): Labels {
  return Object.fromEntries(spec.labelNames.filter((n) => labels[n] !== undefined).map((n) => [n, labels[n]]));
}

export class TextRegistry implements MetricsRegistry {
  readonly contentType = PROMETHEUS_CONTENT_TYPE;
  private readonly renderers: Array<() => string> = [];
  private readonly names = new Set<string>();

  private register(spec: MetricSpec, type: string, lines: () => string[]): void {
    if (this.names.has(spec.name)) throw new Error(`metric ${spec.name} is already registered`);
    this.names.add(spec.name);
    this.renderers.push(() => [`# HELP ${spec.name} ${escapeHelp(spec.help)}`, `# TYPE ${spec.name} ${type}`, ...lines()].join('\n'));
  }

  private scalar(spec: MetricSpec, type: 'counter' | 'gauge'): Map<string, Series> {
    const series = new Map<string, Series>();
    this.register(spec, type, () => {
      // A metric without labels shows 0 before its first update, as prom-client does.
      if (series.size === 0 && spec.labelNames.length === 0) return [`${spec.name} 0`];
      return [...series.values()].map((s) => `${spec.name}${formatLabels(s.labels)} ${formatValue(s.value)}`);
    });
    return series;
  }

  counter(spec: MetricSpec): Counter {
    const series = this.scalar(spec, 'counter');
    return {
      inc(labels?: Labels, value = 1) {
        if (value < 0) throw new Error(`${spec.name}: a counter cannot decrease`);
        const key = keyOf(spec, labels);
        const s = series.get(key) ?? { labels: ordered(spec, labels), value: 0 };
        s.value += value;
        series.set(key, s);
      },
    };
  }

  gauge(spec: MetricSpec): Gauge {
    const series = this.scalar(spec, 'gauge');
    return {
      set(labels: Labels, value: number) {
        series.set(keyOf(spec, labels), { labels: ordered(spec, labels), value });
      },
    };
  }

  histogram(spec: HistogramSpec): Histogram {
    const buckets = [...spec.buckets].sort((a, b) => a - b);
    const series = new Map<string, HistogramSeries>();
    this.register(spec, 'histogram', () =>
      [...series.values()].flatMap((s) => {
        const lines = buckets.map((le, i) => `${spec.name}_bucket${formatLabels({ ...s.labels, le: String(le) })} ${s.counts[i]}`);
        lines.push(`${spec.name}_bucket${formatLabels({ ...s.labels, le: '+Inf' })} ${s.count}`);
        lines.push(`${spec.name}_sum${formatLabels(s.labels)} ${formatValue(s.sum)}`);
        lines.push(`${spec.name}_count${formatLabels(s.labels)} ${s.count}`);
        return lines;
      }),
    );
    return {
      observe(labels: Labels, value: number) {
        const key = keyOf(spec, labels);
        const s = series.get(key) ?? { labels: ordered(spec, labels), counts: buckets.map(() => 0), sum: 0, count: 0 };
        buckets.forEach((le, i) => {
          if (value <= le) s.counts[i] += 1;
        });
        s.sum += value;
        s.count += 1;
        series.set(key, s);
      },
    };
  }

  async render(): Promise<string> {
    return `${this.renderers.map((r) => r()).join('\n\n')}\n`;
  }
}

// The plots: accuracy against each cost (log x), every point a dot and each method's Pareto frontier a
// line, as a Vega-Lite spec compiled and rendered by Vega to SVG, then rasterised to PNG by resvg.
import { Resvg } from '@resvg/resvg-js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { AXIS_FIELD, type CostAxis, frontierOf, methodsOf } from './analysis.js';
import type { PointResult } from './store.js';

/** Fixed colours per method so every plot reads the same. */
const METHOD_COLORS: Record<string, string> = {
  none: '#222222',
  dms: '#d62728',
  'dms-w0': '#ff9896',
  tova: '#1f77b4',
  h2o: '#2ca02c',
  quest: '#9467bd',
  window: '#8c564b',
};

const AXIS_TITLE: Record<CostAxis, string> = {
  reads: 'KV token reads per problem (decode, all W threads, layers, KV heads; log scale)',
  peak: 'Peak KV tokens per problem (all W threads, layers, KV heads; log scale)',
};

export interface PlotSpecOptions {
  axis: CostAxis;
  title: string;
  /** Subtitle lines. */
  subtitle: string[];
  /** Methods drawn (default: every method with points). */
  methods?: string[];
}

/** The Vega-Lite spec of one plot (plain data; exported for tests). */
export function plotSpec(points: readonly PointResult[], o: PlotSpecOptions): TopLevelSpec {
  const methods = (o.methods ?? methodsOf(points)).filter((m) => points.some((p) => p.method === m));
  const field = AXIS_FIELD[o.axis];
  const dots = points
    .filter((p) => methods.includes(p.method))
    .map((p) => ({ method: p.method, ratio: `r${p.ratio}`, W: p.W, L: p.L, cost: p[field], accuracy: p.accuracy }));
  const lines = methods.flatMap((m) =>
    frontierOf(
      points.filter((p) => p.method === m),
      o.axis,
    ).map((f, i) => ({ method: m, order: i, cost: f.cost, accuracy: f.accuracy })),
  );
  const color = {
    field: 'method',
    type: 'nominal',
    title: 'method',
    scale: { domain: methods, range: methods.map((m) => METHOD_COLORS[m] ?? '#7f7f7f') },
  } as const;
  // Log axis padded by 15% on each side so that no dot sits on the frame.
  const costs = dots.map((d) => d.cost).filter((c) => c > 0);
  const domain = costs.length > 0 ? [Math.min(...costs) / 1.15, Math.max(...costs) * 1.15] : [1, 10];
  const x = { field: 'cost', type: 'quantitative', title: AXIS_TITLE[o.axis], axis: { format: '~s' }, scale: { type: 'log', domain } } as const;
  // Accuracy from 0 up to the next tenth above the best point (the whole range once anything nears 100%).
  const top = Math.min(1, Math.ceil((Math.max(0, ...dots.map((d) => d.accuracy)) + 0.05) * 10) / 10);
  const y = {
    field: 'accuracy',
    type: 'quantitative',
    title: 'Accuracy (majority vote over W threads)',
    axis: { format: '%' },
    scale: { domain: [0, top] as number[] },
  } as const;
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: o.title, subtitle: o.subtitle, anchor: 'start' },
    width: 640,
    height: 400,
    background: 'white',
    config: { font: 'DejaVu Sans', view: { stroke: '#cccccc' } },
    layer: [
      {
        data: { values: lines },
        mark: { type: 'line', strokeWidth: 2, interpolate: 'linear' },
        encoding: { x, y, color, order: { field: 'order', type: 'quantitative' } },
      },
      {
        data: { values: dots },
        mark: { type: 'point', filled: true, opacity: 0.75 },
        encoding: {
          x,
          y,
          color,
          shape: { field: 'ratio', type: 'nominal', title: 'ratio' },
          size: { field: 'W', type: 'ordinal', title: 'W threads', scale: { range: [20, 50, 90, 140] } },
        },
      },
    ],
  };
  return spec;
}

/** Renders a Vega-Lite spec to SVG text (headless: no canvas, text measured by estimate). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterises SVG to PNG at 2x with the system fonts (DejaVu Sans when present). */
export function svgToPng(svg: string): Buffer {
  const r = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: 2 },
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  return r.render().asPng();
}

/** Writes `<name>.svg` and `<name>.png` into dir; returns the two paths. */
export async function writePlot(dir: string, name: string, spec: TopLevelSpec): Promise<string[]> {
  const svg = await renderSvg(spec);
  const paths = [join(dir, `${name}.svg`), join(dir, `${name}.png`)];
  writeFileSync(paths[0], svg);
  writeFileSync(paths[1], svgToPng(svg));
  return paths;
}

// A Chart.js scatter plot as a Preact component: one series per method, drawn on a canvas (the
// data never becomes markup), updated in place when the points change, destroyed on unmount.
import { Chart, Legend, LinearScale, PointElement, ScatterController, Title, Tooltip } from 'chart.js';
import { useEffect, useRef } from 'preact/hooks';
import { html } from '../html.js';
import { methodColor } from './method-colors.js';

// Only what a scatter plot needs is registered, so the bundle carries no other chart types.
Chart.register(ScatterController, LinearScale, PointElement, Legend, Title, Tooltip);

export type Point = { x: number; y: number; label: string };
export type Series = { method: string; points: Point[] };

type Props = { title: string; xLabel: string; yLabel: string; series: Series[]; testId?: string };

function datasets(series: Series[]) {
  return series.map((s) => ({
    label: s.method,
    data: s.points,
    backgroundColor: methodColor(s.method),
    borderColor: methodColor(s.method),
    pointRadius: 4,
  }));
}

export function ScatterChart({ title, xLabel, yLabel, series, testId }: Props) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart<'scatter', Point[]> | null>(null);

  useEffect(() => {
    chart.current = new Chart(canvas.current!, {
      type: 'scatter',
      data: { datasets: [] },
      options: {
        animation: false,
        maintainAspectRatio: false,
        plugins: {
          title: { display: true, text: title },
          tooltip: { callbacks: { label: (item) => `${(item.raw as Point).label}: (${item.parsed.x}, ${item.parsed.y})` } },
        },
        scales: {
          x: { title: { display: true, text: xLabel }, beginAtZero: true },
          y: { title: { display: true, text: yLabel }, beginAtZero: true },
        },
      },
    });
    return () => chart.current?.destroy();
  }, [title, xLabel, yLabel]);

  useEffect(() => {
    if (!chart.current) return;
    chart.current.data.datasets = datasets(series);
    chart.current.update();
  }, [series]);

  const numPoints = series.reduce((n, s) => n + s.points.length, 0);
  return html`<figure class="chart" data-testid=${testId} data-points=${numPoints}>
    <div class="chart-box"><canvas ref=${canvas} role="img" aria-label=${title}></canvas></div>
  </figure>`;
}

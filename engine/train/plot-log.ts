// Renders a training CSV log as a small SVG line chart (one panel per chosen column, vs step).
// npx tsx engine/train/plot-log.ts models/logs/reasoner-base-train.csv loss,acc_copy,exact [out.svg]
import { readFileSync, writeFileSync } from 'node:fs';

export interface Series {
  name: string;
  points: Array<[number, number]>;
}

/** Parses a CSV log into columns; a later row with the same step replaces an earlier one (resumes). */
export function readCsvLog(text: string): { columns: string[]; rows: Record<string, number>[] } {
  const lines = text.trim().split('\n');
  const columns = lines[0].split(',');
  const byStep = new Map<number, Record<string, number>>();
  for (const line of lines.slice(1)) {
    const cells = line.split(',');
    const row: Record<string, number> = {};
    for (const [i, c] of columns.entries()) row[c] = cells[i] === '' || cells[i] === 'nan' ? NaN : Number(cells[i]);
    byStep.set(row.step, row);
  }
  return { columns, rows: [...byStep.values()].sort((a, b) => a.step - b.step) };
}

/** Moving average over a window of points (NaN skipped). */
export function smooth(points: Array<[number, number]>, window: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < points.length; i++) {
    const slice = points.slice(Math.max(0, i - window + 1), i + 1).filter(([, y]) => Number.isFinite(y));
    if (slice.length) out.push([points[i][0], slice.reduce((s, [, y]) => s + y, 0) / slice.length]);
  }
  return out;
}

/** One SVG with a panel per series (own y range), shared x axis = step. */
export function renderSvg(series: readonly Series[], title: string): string {
  const w = 640;
  const ph = 140;
  const pad = 44;
  const h = pad + series.length * (ph + 30);
  const xs = series.flatMap((s) => s.points.map(([x]) => x));
  const [x0, x1] = [Math.min(...xs), Math.max(...xs, Math.min(...xs) + 1)];
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${pad}" y="18" font-size="13">${title}</text>`,
  ];
  series.forEach((s, k) => {
    const top = pad + k * (ph + 30);
    const ys = s.points.map(([, y]) => y).filter(Number.isFinite);
    const y0 = Math.min(...ys, 0);
    const y1 = Math.max(...ys, y0 + 1e-9);
    const px = (x: number) => pad + ((x - x0) / (x1 - x0)) * (w - 2 * pad);
    const py = (y: number) => top + ph - ((y - y0) / (y1 - y0)) * ph;
    const d = s.points
      .filter(([, y]) => Number.isFinite(y))
      .map(([x, y], i) => `${i ? 'L' : 'M'}${px(x).toFixed(1)},${py(y).toFixed(1)}`)
      .join('');
    parts.push(`<rect x="${pad}" y="${top}" width="${w - 2 * pad}" height="${ph}" fill="none" stroke="#ccc"/>`);
    parts.push(`<text x="${pad + 4}" y="${top + 12}">${s.name}</text>`);
    parts.push(`<text x="4" y="${top + 10}">${y1.toPrecision(3)}</text><text x="4" y="${top + ph}">${y0.toPrecision(3)}</text>`);
    parts.push(`<path d="${d}" fill="none" stroke="#1f6feb" stroke-width="1.2"/>`);
  });
  parts.push(`<text x="${pad}" y="${h - 6}">step ${x0} .. ${x1}</text></svg>`);
  return parts.join('\n');
}

const isMain = process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() as string);
if (isMain) {
  const [csvPath, cols = 'loss', out = csvPath.replace(/\.csv$/, '.svg')] = process.argv.slice(2);
  const { rows } = readCsvLog(readFileSync(csvPath, 'utf8'));
  const win = Math.max(1, Math.floor(rows.length / 200));
  const series = cols.split(',').map((c) => ({
    name: `${c} (mean of ${win})`,
    points: smooth(
      rows.map((r) => [r.step, r[c]] as [number, number]),
      win,
    ),
  }));
  writeFileSync(out, renderSvg(series, csvPath));
  console.log(`wrote ${out}`);
}

// One colour per compression method, the palette of the hyper-scaling plots (bench/hyperscale/plots.ts),
// so that a method looks the same in a job's charts and in the bench plots shown next to them.

const COLORS: Record<string, string> = {
  none: '#222222',
  dms: '#d62728',
  tova: '#1f77b4',
  h2o: '#2ca02c',
  quest: '#9467bd',
  window: '#8c564b',
};

export function methodColor(method: string): string {
  return COLORS[method] ?? '#7f7f7f';
}

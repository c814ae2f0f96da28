// One colour per compression method, shared by every chart, so a method looks the same everywhere
// (DMS blue, the uncompressed baseline grey, training-free baselines warm).

const COLORS: Record<string, string> = {
  none: '#7f7f7f',
  dms: '#1f77b4',
  tova: '#ff7f0e',
  h2o: '#2ca02c',
  quest: '#9467bd',
  window: '#d62728',
};

export function methodColor(method: string): string {
  return COLORS[method] ?? '#8c564b';
}

// The markdown report (bench/results/hyperscale.md): what ran on what, the headline comparisons read
// off the frontiers (how they are read is stated), throughput at the budget, and every point.
import type { Comparison } from './analysis.js';
import type { HyperscaleDoc } from './document.js';
import { formatDuration } from './progress.js';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const pts = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;

/** 1234 -> "1.23K", 2.5e6 -> "2.50M". */
export function compact(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(2)}K`;
  return x.toFixed(x >= 100 ? 0 : 1);
}

const label = (m: string, ratio: number | null) => (ratio === null || m === 'none' ? m : `${m} r${ratio}`);

function comparisonRow(c: Comparison): string {
  const head = `| ${label(c.a, c.ratio)} vs ${label(c.b, c.ratio)} | ${c.axis} |`;
  if (!c.gap) return `${head} n/a | n/a | n/a | n/a | ${c.missing ?? ''} |`;
  const g = c.gap;
  return `${head} ${pts(g.meanGain)} | ${pts(g.maxGain)} at ${compact(g.maxGainAt)} | ${pts(g.minGain)} at ${compact(g.minGainAt)} | ${pts(g.stepMeanGain)} | ${compact(g.from)}..${compact(g.to)} |`;
}

const COMPARISON_HEADER = [
  '| comparison | cost | mean gain (pts) | max gain (pts) at cost | min gain (pts) at cost | mean gain, step (pts) | cost range |',
  '|---|---|---|---|---|---|---|',
];

/** One sentence on a comparison, stating the sign honestly. */
function verdict(c: Comparison): string {
  const what = `${label(c.a, c.ratio)} vs ${label(c.b, c.ratio)} at equal ${c.axis === 'reads' ? 'KV reads' : 'peak KV memory'}`;
  if (!c.gap) return `- ${what}: not measured (${c.missing}).`;
  const g = c.gap;
  const shape = g.minGain >= 0 ? 'is never below' : g.maxGain <= 0 ? 'is never above' : 'crosses';
  return `- ${what}: ${pts(g.meanGain)} points on average over ${compact(g.from)}..${compact(g.to)}, best ${pts(g.maxGain)} at ${compact(g.maxGainAt)}, worst ${pts(g.minGain)} at ${compact(g.minGainAt)} (the ${c.a} frontier ${shape} the ${c.b} frontier there).`;
}

/** notes: hand-written findings (markdown) kept across regenerations, placed after the headline. */
export function renderReport(doc: HyperscaleDoc, plotFiles: string[], notes = ''): string {
  const L: string[] = [];
  const base = doc.model.checkpoints.find((c) => c.path.endsWith('-base'));
  L.push('# Hyper-scaling evaluation: accuracy against KV reads, peak KV memory and throughput', '');
  L.push(`**Status: ${doc.status === 'complete' ? 'every point of the requested grid measured' : 'PARTIAL (points skipped, see below)'}.** ${doc.label}`, '');
  if (doc.command) L.push(`Produced by: \`${doc.command}\``, '');
  if (base)
    L.push(
      `Base checkpoint: \`${base.path}\` at training step **${base.step ?? 'unknown'}** (sha256 ${base.sha256.slice(0, 12)}, written ${base.written_at}).`,
      '',
    );
  L.push('## Setup', '');
  L.push(
    `- Problems: ${doc.problems} held-out suite problems, seeds ${doc.suite.seed_start}..${doc.suite.seed_start + doc.problems - 1} under the standard mix (${Object.entries(
      doc.suite.families,
    )
      .map(([f, n]) => `${f} ${n}`)
      .join(', ')}; content hash ${doc.suite.sha256}); the same set for every point. Longest: ${doc.suite.longest_problem_tokens} tokens of prompt + solution.`,
  );
  L.push(
    `- Grid: methods ${doc.grid.methods.join(', ')}; ratios ${doc.grid.ratios.join(', ')} (none at 1); W ${doc.grid.threads.join(', ')}; L ${doc.grid.lengths.join(', ')}${doc.grid.ablationRatios.length ? `; dms-w0 ablation at ratio ${doc.grid.ablationRatios.join(', ')}` : ''}. ${doc.points.length} points measured, ${doc.skipped_points} skipped (missing checkpoints).`,
  );
  L.push(
    `- Sampling: W = 1 greedy; W > 1 temperature ${doc.sampling.temperature_W_gt_1}, seed ${doc.sampling.seed} + problem index, answer by majority vote (ties to the earliest thread).`,
  );
  L.push(
    `- Memory: one KV budget of ${doc.kv_budget_tokens} cached tokens (token x layer x KV head; pages of 16) for every point, enforced by the engine scheduler; batch cap ${doc.max_batch_cap} so that memory is what binds. Throughput is measured over the whole set on the \`${doc.backend}\` backend on a shared 2-core machine (noisy; compare within a run).`,
  );
  L.push(
    '- Costs per problem: decode KV token reads (all W threads, layers and KV heads; prefill reads apart) and peak KV tokens held at once by the W threads.',
  );
  L.push(
    '- Frontiers: per method, the points not dominated (no other point is cheaper and at least as accurate). Gains are read off two frontiers at the same budget, linearly in log10(cost) between frontier points (the lines on the plots), flat beyond a frontier\'s last point; "step" reads the best single configuration within the budget instead. Both are averaged over 64 budgets spaced evenly in log cost over the range both frontiers reach (from the dearer of the two cheapest points).',
    '',
  );
  L.push('## Checkpoints', '');
  for (const c of doc.model.checkpoints) L.push(`- ${c.used_by}: \`${c.path}\` step ${c.step ?? 'n/a'}, sha256 ${c.sha256.slice(0, 12)}`);
  for (const m of doc.model.missing) L.push(`- ${m.used_by}: \`${m.path}\` **missing** (points skipped; rerun \`npm run bench:hyperscale\` once it exists)`);
  L.push('');
  L.push('## Headline', '');
  const dms = doc.headline.vsNone.filter((c) => c.a === 'dms');
  for (const c of dms) L.push(verdict(c));
  for (const d of doc.headline.delayedVsImmediate) L.push(verdict(d.comparison));
  if (doc.headline.throughput.rows.length > 0) {
    const t = doc.headline.throughput;
    L.push(
      `- Throughput at the budget (W ${t.W}, L ${t.L}; tokens/s, largest batch that fit): ${t.rows.map((r) => `${label(r.method, r.ratio)} ${r.tokens_per_s.toFixed(0)} (${r.max_batch})`).join(', ')}. Problems/s also depends on how many tokens each method generates per problem (table below).`,
    );
  }
  L.push('');
  if (notes.trim() !== '') L.push('## Findings', '', notes.trim(), '');
  L.push('## Each method against the original model (none)', '', ...COMPARISON_HEADER, ...doc.headline.vsNone.map(comparisonRow), '');
  L.push(
    '## DMS against the training-free baselines at the same ratio (KV reads)',
    '',
    ...COMPARISON_HEADER,
    ...doc.headline.dmsVsBaselines.map(comparisonRow),
    '',
  );
  L.push('## Delayed vs immediate eviction (Figure 5)', '');
  if (doc.headline.delayedVsImmediate.length === 0) L.push('Not in this grid (no --ablation-ratios).', '');
  for (const d of doc.headline.delayedVsImmediate) {
    L.push(`Ratio ${d.ratio}: dms (delayed, the checkpoint's window) vs dms-w0 (immediate, its own retrofit).`, '');
    if (d.rows.length === 0) L.push('No points (both retrofits missing).', '');
    else {
      L.push('| W | L | delayed | immediate |', '|---|---|---|---|');
      for (const r of d.rows)
        L.push(`| ${r.W} | ${r.L} | ${r.delayed === null ? 'n/a' : pct(r.delayed)} | ${r.immediate === null ? 'n/a' : pct(r.immediate)} |`);
      L.push('');
    }
  }
  const t = doc.headline.throughput;
  L.push(
    `## Throughput at the KV budget (W ${t.W}, L ${t.L})`,
    '',
    '| method | ratio | achieved ratio | generated tokens/problem | problems/s | tokens/s | max batch | mean batch | preemptions |',
    '|---|---|---|---|---|---|---|---|---|',
  );
  for (const r of t.rows)
    L.push(
      `| ${r.method} | ${r.ratio} | ${r.achieved_ratio.toFixed(2)} | ${r.completion_tokens_per_problem.toFixed(0)} | ${r.problems_per_s.toFixed(2)} | ${r.tokens_per_s.toFixed(0)} | ${r.max_batch} | ${r.mean_batch.toFixed(1)} | ${r.preemptions} |`,
    );
  L.push('');
  L.push('## Plots', '', ...plotFiles.filter((f) => f.endsWith('.png')).map((f) => `![${f}](${f})`), '');
  if (doc.full_grid_estimate_s !== null) {
    L.push(
      `Estimated runtime of the full issue grid (200 problems; none + 5 methods x ratios 2, 4, 8 x W 1, 2, 4, 8 x L 128, 256, 512, 896, plus dms-w0 at 4) at the seconds per expected token measured here per method (the mean rate for methods without points): ${formatDuration(doc.full_grid_estimate_s)} in one process on one core. Expected tokens per point: prompt + W x min(L, solution + eos) per problem, so a model that rambles past its solution costs more.`,
      '',
    );
  }
  L.push(
    '## All points',
    '',
    '| method | ratio | window | W | L | accuracy | KV reads/problem | peak KV/problem | problems/s | tokens/s | max batch | mean batch | achieved ratio |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  );
  const sorted = [...doc.points].sort((a, b) => a.method.localeCompare(b.method) || a.ratio - b.ratio || a.L - b.L || a.W - b.W);
  for (const p of sorted) {
    L.push(
      `| ${p.method} | ${p.ratio} | ${p.window ?? '-'} | ${p.W} | ${p.L} | ${pct(p.accuracy)} | ${compact(p.kv_reads_per_problem)} | ${compact(p.peak_kv_tokens_per_problem)} | ${p.problems_per_s.toFixed(2)} | ${p.tokens_per_s.toFixed(0)} | ${p.max_batch} | ${p.mean_batch.toFixed(1)} | ${p.achieved_ratio.toFixed(2)} |`,
    );
  }
  L.push('');
  return L.join('\n');
}

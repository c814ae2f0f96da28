// Pareto frontiers (lower cost, higher accuracy) and reading a frontier at a given budget, both as the
// best single configuration within the budget (step) and linearly in log10(cost) between frontier points.

/** A point on a cost axis (cost > 0). */
export interface CostAcc {
  cost: number;
  accuracy: number;
}

/**
 * The non-dominated points, by ascending cost with strictly rising accuracy. A point is dominated
 * when another costs no more and is at least as accurate, and is strictly better on one of the two.
 * Of exact ties (same cost and accuracy) the first is kept.
 */
export function paretoFrontier<T>(items: readonly T[], cost: (t: T) => number, accuracy: (t: T) => number): T[] {
  const sorted = items
    .map((t, i) => ({ t, i, c: cost(t), a: accuracy(t) }))
    .filter((x) => Number.isFinite(x.c) && Number.isFinite(x.a))
    .sort((x, y) => x.c - y.c || y.a - x.a || x.i - y.i);
  const out: T[] = [];
  let best = -Infinity;
  for (const x of sorted) {
    if (x.a > best) {
      out.push(x.t);
      best = x.a;
    }
  }
  return out;
}

/** Best accuracy of a single frontier configuration costing at most c; null below the cheapest. */
export function stepAt(frontier: readonly CostAcc[], c: number): number | null {
  let acc: number | null = null;
  for (const p of frontier) if (p.cost <= c) acc = p.accuracy;
  return acc;
}

/**
 * The frontier read at budget c: linear in log10(cost) between the two frontier points around c (the
 * lines the plots draw on their log axis), flat at the last point's accuracy beyond it (a bigger
 * budget can always run the best configuration), null below the cheapest point (out of reach).
 */
export function interpAt(frontier: readonly CostAcc[], c: number): number | null {
  if (frontier.length === 0 || c < frontier[0].cost) return null;
  for (let i = 1; i < frontier.length; i++) {
    const a = frontier[i - 1];
    const b = frontier[i];
    if (c <= b.cost) {
      const t = (Math.log10(c) - Math.log10(a.cost)) / (Math.log10(b.cost) - Math.log10(a.cost));
      return a.accuracy + t * (b.accuracy - a.accuracy);
    }
  }
  return frontier[frontier.length - 1].accuracy;
}

/** How frontier A compares with frontier B over the budgets both can reach. */
export interface FrontierGap {
  /** Budget range compared: from the dearer of the two cheapest points to the dearer of the two last points. */
  from: number;
  to: number;
  /** Accuracy of A minus B (fraction), interpolated, averaged uniformly over log10(budget). */
  meanGain: number;
  /** Largest interpolated gain and where. */
  maxGain: number;
  maxGainAt: number;
  /** Smallest interpolated gain (most negative: where A is worst off) and where. */
  minGain: number;
  minGainAt: number;
  /** The same comparison read as steps (best single configuration within each budget). */
  stepMeanGain: number;
  stepMaxGain: number;
  stepMaxGainAt: number;
}

/**
 * Compares two frontiers on `samples` budgets spaced evenly in log10 over the range both reach
 * (beyond its last point a frontier is flat). Null when either is empty.
 */
export function compareFrontiers(a: readonly CostAcc[], b: readonly CostAcc[], samples = 64): FrontierGap | null {
  if (a.length === 0 || b.length === 0) return null;
  const from = Math.max(a[0].cost, b[0].cost);
  const to = Math.max(a[a.length - 1].cost, b[b.length - 1].cost, from);
  // Clamped into [from, to]: 10 ** log10(x) can land just below x, where a frontier reads as out of reach.
  const budgets = Array.from({ length: samples }, (_, i) =>
    samples === 1 || from === to ? from : Math.min(to, Math.max(from, 10 ** (Math.log10(from) + (i / (samples - 1)) * (Math.log10(to) - Math.log10(from))))),
  );
  let sum = 0;
  let stepSum = 0;
  let max = { g: -Infinity, at: from };
  let min = { g: Infinity, at: from };
  let stepMax = { g: -Infinity, at: from };
  for (const c of budgets) {
    const [ia, ib, sa, sb] = [interpAt(a, c), interpAt(b, c), stepAt(a, c), stepAt(b, c)];
    if (ia === null || ib === null || sa === null || sb === null) throw new Error(`compareFrontiers: budget ${c} outside a frontier`);
    const g = ia - ib;
    const s = sa - sb;
    sum += g;
    stepSum += s;
    if (g > max.g) max = { g, at: c };
    if (g < min.g) min = { g, at: c };
    if (s > stepMax.g) stepMax = { g: s, at: c };
  }
  return {
    from,
    to,
    meanGain: sum / budgets.length,
    maxGain: max.g,
    maxGainAt: max.at,
    minGain: min.g,
    minGainAt: min.at,
    stepMeanGain: stepSum / budgets.length,
    stepMaxGain: stepMax.g,
    stepMaxGainAt: stepMax.at,
  };
}

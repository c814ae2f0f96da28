// Test harness for the eviction policies: the case table (one entry per policy with the rule the shared
// suite checks), a seeded PRNG, and a row driver that calls a policy in the model runner's order.
import { attendRow } from '../../../engine/kv/attention.js';
import type { CacheRow } from '../../../engine/kv/paged-cache.js';
import type { ModelConfig } from '../../../engine/model/config.js';
import { tokenBudget, type KvPolicy } from '../../../engine/policies/kv-policy.js';
import { createPolicy, type PolicySpec } from '../../../engine/policies/registry.js';
import { mulberry32 } from '../../../tasks/rng.js';

/** A small deterministic PRNG for test data (the suite's mulberry32). */
export const prng = mulberry32;

/** Standard normal draws from a uniform PRNG (Box-Muller). */
export function gaussian(rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** What a policy promises about a row after the step of token `position` (seen = position + 1 tokens). */
export interface PolicyRule {
  /** Exact number of tokens the row holds after the step. */
  held(seen: number): number;
  /** Whether position p must still be in the row (the current token, the window, sinks...). */
  mustHold(p: number, position: number): boolean;
  /** Most slots one token's query group may read. */
  maxReads(seen: number): number;
}

export interface PolicyCase {
  name: string;
  spec: PolicySpec;
  /** The rule, given the policy built for the model (the DMS window comes from the model). */
  rule(model: ModelConfig): PolicyRule;
}

/** Budget knobs the suite uses: ratio 4 and a small floor so eviction starts early in short sequences. */
export const RATIO = 4;
export const FLOOR = 8;
const budget = (seen: number) => tokenBudget(seen, RATIO, FLOOR);

/** One case per policy: none, dms, dms-w0, window, tova, h2o, quest (quest page size = the cache's). */
export function policyCases(pageSize: number): PolicyCase[] {
  const keepAll = (seen: number) => seen;
  return [
    { name: 'none', spec: { method: 'none', ratio: 1 }, rule: () => ({ held: keepAll, mustHold: () => true, maxReads: keepAll }) },
    {
      name: 'dms',
      spec: { method: 'dms', ratio: RATIO },
      // Held depends on the predictor; the w+1 newest keys are always there.
      rule: (m) => ({ held: () => NaN, mustHold: (p, t) => t - p <= m.dms!.window, maxReads: keepAll }),
    },
    { name: 'dms-w0', spec: { method: 'dms-w0', ratio: RATIO }, rule: () => ({ held: () => NaN, mustHold: (p, t) => p === t, maxReads: keepAll }) },
    {
      name: 'window',
      spec: { method: 'window', ratio: RATIO, floor: FLOOR, sinks: 2 },
      rule: () => ({
        held: (seen) => Math.min(seen, budget(seen)),
        mustHold: (p, t) => p < 2 || t - p < budget(t + 1) - 2,
        maxReads: (seen) => Math.min(seen, budget(seen)),
      }),
    },
    {
      name: 'tova',
      spec: { method: 'tova', ratio: RATIO, floor: FLOOR },
      rule: () => ({ held: (seen) => Math.min(seen, budget(seen)), mustHold: (p, t) => p === t, maxReads: (seen) => Math.min(seen, budget(seen) + 1) }),
    },
    {
      name: 'h2o',
      spec: { method: 'h2o', ratio: RATIO, floor: FLOOR },
      rule: () => ({
        held: (seen) => Math.min(seen, budget(seen)),
        mustHold: (p, t) => t - p < budget(t + 1) - Math.floor(budget(t + 1) / 2),
        maxReads: (seen) => Math.min(seen, budget(seen) + 1),
      }),
    },
    {
      name: 'quest',
      spec: { method: 'quest', ratio: RATIO, floor: FLOOR, pageSize },
      rule: () => ({
        held: keepAll,
        mustHold: () => true,
        maxReads: (seen) => Math.min(seen, Math.ceil(budget(seen) / pageSize) * pageSize + pageSize),
      }),
    },
  ];
}

/** Builds a case's policy through the registry (the path requests take). */
export function makePolicy(c: PolicyCase, model: ModelConfig): KvPolicy {
  return createPolicy(c.spec, model);
}

/** Sorted positions a row holds. */
export function heldPositions(row: CacheRow): number[] {
  return Array.from(row.positions.subarray(0, row.length)).sort((a, b) => a - b);
}

/** A message when a row breaks its policy's rule after the step of `position`, else null. */
export function ruleViolation(rule: PolicyRule, row: CacheRow, position: number, reads: number): string | null {
  const seen = position + 1;
  const held = heldPositions(row);
  const want = rule.held(seen);
  if (!Number.isNaN(want) && held.length !== want) return `row ${row.id} at t=${position}: holds ${held.length}, rule says ${want}`;
  if (held.length > seen || new Set(held).size !== held.length || held.some((p) => p > position)) return `row ${row.id}: bad positions ${held}`;
  const set = new Set(held);
  for (let p = 0; p <= position; p++) if (rule.mustHold(p, position) && !set.has(p)) return `row ${row.id} at t=${position}: evicted protected position ${p}`;
  if (reads > rule.maxReads(seen)) return `row ${row.id} at t=${position}: read ${reads} slots, at most ${rule.maxReads(seen)} allowed`;
  return null;
}

let outScratch = new Float32Array(0);
let slotScratch = new Int32Array(0);
let weightScratch = new Float32Array(0);

/** What one feedRow call read: the slot count and, when the policy chose a subset, which slots. */
export interface FeedResult {
  reads: number;
  chosen: number[] | null;
}

/**
 * Feeds one token into one row in the model runner's order (insert, selectSlots, attention, observe),
 * over the real paged cache and the real attention kernel. Test-only driver: it lets the suite run
 * long sequences and many rows without a model.
 */
export function feedRow(
  policy: KvPolicy,
  row: CacheRow,
  position: number,
  k: Float32Array,
  v: Float32Array,
  q: Float32Array,
  G: number,
  dmsLogit: number,
): FeedResult {
  const D = row.cache.pool.headDim;
  policy.insert(row, { position, k, kOff: 0, v, vOff: 0, dmsLogit });
  if (slotScratch.length < row.length) slotScratch = new Int32Array(row.length * 2);
  if (weightScratch.length < row.length) weightScratch = new Float32Array(row.length * 2);
  if (outScratch.length < G * D) outScratch = new Float32Array(G * D);
  let slots: Int32Array | null = null;
  let n = row.length;
  if (policy.selectSlots) {
    const chosen = policy.selectSlots(row, q, 0, G, slotScratch);
    if (chosen >= 0) {
      slots = slotScratch;
      n = chosen;
    }
  }
  const weights = policy.needsAttention ? weightScratch : null;
  const reads = attendRow(row, q, 0, G, 1 / Math.sqrt(D), outScratch, 0, slots, n, weights);
  const chosen = slots ? Array.from(slots.subarray(0, n)) : null; // before observe may move slots
  if (weights) policy.observe?.(row, weights, slots, n, position);
  return { reads, chosen };
}

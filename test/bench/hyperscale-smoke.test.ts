// CI smoke test of `npm run bench:hyperscale -- --quick`: the real script on tiny random checkpoints in
// the real format (base, DMS r4, the w=0 retrofit), every output written, a rerun resumes, a new checkpoint recomputes.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../engine/index.js';
import { buildByteLevelTokenizerConfig, buildByteLevelTokenizerJson } from '../../engine/model/tokenizer.js';
import { disposeParams, saveModel } from '../../engine/model/weights.js';
import type { HyperscaleDoc } from '../../bench/hyperscale/document.js';
import { randomParams, tinyConfig } from '../engine/helpers.js';

const root = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'hyperscale-smoke-'));
const models = join(dir, 'models');
const out = join(dir, 'out');

function writeModel(name: string, seed: number, extra: Record<string, unknown> = {}): void {
  const params = randomParams(tinyConfig({ max_position_embeddings: 256, ...extra }), seed, 0.08);
  saveModel(join(models, name), params, { tokenizerJson: buildByteLevelTokenizerJson(), tokenizerConfig: buildByteLevelTokenizerConfig() });
  disposeParams(params);
}

/** The real script, as CI runs it (quick grid plus DMS and its ablation at ratio 4). */
function bench(...extra: string[]): { code: number | null; stderr: string; doc: HyperscaleDoc } {
  const r = spawnSync(
    join(root, 'node_modules/.bin/tsx'),
    ['bench/hyperscale.ts', '--quick', '--methods', 'none,dms,tova', '--ablation-ratios', '4', '--models', models, '--out', out, ...extra],
    { cwd: root, encoding: 'utf8', timeout: 120_000 },
  );
  const doc = existsSync(join(out, 'hyperscale.json')) ? (JSON.parse(readFileSync(join(out, 'hyperscale.json'), 'utf8')) as HyperscaleDoc) : (null as never);
  return { code: r.status, stderr: r.stderr, doc };
}

beforeAll(async () => {
  await initBackend();
  writeModel('reasoner-base', 1);
  writeModel('reasoner-dms-r4', 2, { dms: { mode: 'adapter', window: 16, offset: -2 } });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bench:hyperscale --quick', () => {
  it('runs the grid, skips a missing checkpoint, writes JSON, plots and report; a rerun resumes', () => {
    const first = bench();
    expect(first.code, first.stderr).toBe(0);
    const doc = first.doc;
    // 12 problems; none, tova r4, dms r4 x W {1, 2} x L 64 ran; dms-w0 r4 has no checkpoint yet.
    expect(doc.problems).toBe(12);
    expect(doc.status).toBe('partial');
    expect(doc.model.missing.map((m) => m.path)).toEqual([join(models, 'reasoner-dms-r4-w0')]);
    expect(doc.skipped_points).toBe(2);
    expect(doc.points.map((p) => `${p.method}:${p.ratio}:${p.W}`).sort()).toEqual(['dms:4:1', 'dms:4:2', 'none:1:1', 'none:1:2', 'tova:4:1', 'tova:4:2']);
    for (const p of doc.points) {
      expect(p.kv_reads_per_problem).toBeGreaterThan(0);
      expect(p.peak_kv_tokens_per_problem).toBeGreaterThan(0);
      expect(p.problems_per_s).toBeGreaterThan(0);
      expect(p.max_batch).toBeGreaterThanOrEqual(1);
      expect(p.max_batch).toBeLessThanOrEqual(12 * p.W);
      expect(p.accuracy).toBeGreaterThanOrEqual(0);
    }
    const none1 = doc.points.find((p) => p.method === 'none' && p.W === 1)!;
    const tova1 = doc.points.find((p) => p.method === 'tova' && p.W === 1)!;
    expect(none1.achieved_ratio).toBe(1);
    expect(tova1.achieved_ratio).toBeGreaterThan(1.5);
    expect(tova1.peak_kv_tokens_per_problem).toBeLessThan(none1.peak_kv_tokens_per_problem);
    expect(doc.points.find((p) => p.method === 'dms')!.window).toBe(16);
    expect(Object.keys(doc.frontiers.reads).sort()).toEqual(['dms', 'none', 'tova']);
    expect(doc.frontiers.peak.none.length).toBeGreaterThanOrEqual(1);
    for (const f of [
      'hyperscale-reads.svg',
      'hyperscale-reads.png',
      'hyperscale-peak.svg',
      'hyperscale-peak.png',
      'hyperscale.md',
      'hyperscale-points.jsonl',
    ]) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    expect(readFileSync(join(out, 'hyperscale-reads.svg'), 'utf8')).toMatch(/^<svg[\s\S]*KV token reads per problem[\s\S]*<\/svg>$/);
    expect(readFileSync(join(out, 'hyperscale-reads.png')).subarray(1, 4).toString()).toBe('PNG');
    const md = readFileSync(join(out, 'hyperscale.md'), 'utf8');
    expect(md).toContain('**missing**');
    expect(md).toMatch(/dms vs none at equal KV reads: [+-]\d/);

    const again = bench();
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/6 already finished, 0 to run/);
    expect(again.doc.points).toEqual(doc.points);
  }, 120_000);

  it('a new checkpoint (and the ablation retrofit landing) recomputes only what changed', () => {
    writeModel('reasoner-dms-r4', 3, { dms: { mode: 'adapter', window: 16, offset: -2 } });
    writeModel('reasoner-dms-r4-w0', 4, { dms: { mode: 'adapter', window: 0, offset: -2 } });
    const r = bench();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/8 runnable, 4 already finished, 4 to run/);
    expect(r.doc.status).toBe('complete');
    expect(r.doc.points.find((p) => p.method === 'dms-w0')!.window).toBe(0);
    expect(r.doc.headline.delayedVsImmediate[0].rows.every((x) => x.delayed !== null && x.immediate !== null)).toBe(true);
    expect(existsSync(join(out, 'hyperscale-ablation.png'))).toBe(true);
  }, 120_000);

  it('--report-only reports the checkpoint the stored points ran on, even after the folder changed', () => {
    const before = bench().doc.points.filter((p) => p.method === 'none');
    writeModel('reasoner-base', 5); // training wrote a new base checkpoint
    const r = bench('--report-only');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/0 to run/);
    expect(r.doc.points.filter((p) => p.method === 'none')).toEqual(before);
    expect(r.doc.model.checkpoints.find((c) => c.path.endsWith('reasoner-base'))!.sha256).toBe(before[0].checkpoint.sha256);
  }, 120_000);
});

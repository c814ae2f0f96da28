// Runs the hyper-scaling grid end to end: snapshot the checkpoints, skip points already in the results
// file, evaluate the rest through the engine under one KV budget, then write JSON, plots and the report.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, type LoadedModel, loadModelForBackend } from '../../engine/index.js';
import { problemSet, STANDARD_MIX } from '../../tasks/index.js';
import { evaluate } from '../eval-suite.js';
import { checkpointExists, snapshotCheckpoint, type CheckpointSnapshot } from './checkpoints.js';
import { buildDocument, estimateSeconds, pointWeight, type HyperscaleDoc } from './document.js';
import {
  checkpointName,
  expandGrid,
  FULL_GRID,
  type GridSpec,
  pointKey,
  pointLabel,
  type PointSpec,
  type RunSettings,
  suiteHash,
  temperatureOf,
} from './grid.js';
import { plotSpec, writePlot } from './plots.js';
import { Progress, type ProgressSink } from './progress.js';
import { renderReport, compact } from './report.js';
import { PointStore, type PointResult } from './store.js';

export interface BenchOptions {
  grid: GridSpec;
  settings: RunSettings;
  /** Folder holding the checkpoints (`<prefix>-base`, `<prefix>-dms-r<R>`, `<prefix>-dms-r<R>-w0`). */
  modelsDir: string;
  modelPrefix: string;
  /** Where hyperscale.json / .md / -*.svg / -*.png go. */
  outDir: string;
  /** The resumable results file (one JSON line per finished point). */
  pointsFile: string;
  /** What this run is, stated at the top of the report. */
  label: string;
  /** The command line, recorded in the outputs. */
  command?: string;
  /** Markdown with hand-written findings, included in the report. */
  notesFile?: string;
  /** Only rebuild the outputs from the results file; run nothing. */
  reportOnly?: boolean;
  progressOut?: ProgressSink;
  log?: (line: string) => void;
}

export interface BenchRun {
  doc: HyperscaleDoc;
  files: string[];
  /** Points evaluated in this run, and found finished in the results file. */
  ran: number;
  reused: number;
}

/** Which points each checkpoint serves, for the report ("none, tova r4, ..."). */
function usedBy(points: PointSpec[]): string {
  return [...new Set(points.map((p) => (p.method === 'none' ? 'none' : `${p.method} r${p.ratio}`)))].join(', ');
}

export async function runBench(o: BenchOptions): Promise<BenchRun> {
  const log = o.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  const backend = await initBackend();
  const s = o.settings;
  const problems = problemSet(s.seedStart, s.numProblems, STANDARD_MIX);
  const suiteSha = suiteHash(problems);
  const grid = expandGrid(o.grid);
  const byPath = new Map<string, PointSpec[]>();
  for (const p of grid) {
    const path = join(o.modelsDir, checkpointName(o.modelPrefix, p.method, p.ratio));
    byPath.set(path, [...(byPath.get(path) ?? []), p]);
  }
  const snapRoot = mkdtempSync(join(tmpdir(), 'hyperscale-ckpt-'));
  const loaded = new Map<string, LoadedModel>();
  try {
    const store = new PointStore(o.pointsFile);
    if (store.numBadLines > 0) log(`${o.pointsFile}: ${store.numBadLines} unreadable line(s) ignored`);
    const snaps = new Map<string, CheckpointSnapshot>();
    const missing: { usedBy: string; path: string }[] = [];
    for (const [path, pts] of byPath) {
      if (o.reportOnly) {
        // Report on the checkpoint the stored points ran on, whatever the folder holds now.
        const c = store.latestCheckpoint(path);
        if (c) snaps.set(path, { source: path, dir: '', sha256: c.sha256, step: c.step, writtenAt: c.written_at ?? 'unknown' });
        else missing.push({ usedBy: usedBy(pts), path });
        continue;
      }
      if (!checkpointExists(path)) {
        missing.push({ usedBy: usedBy(pts), path });
        continue;
      }
      snaps.set(path, await snapshotCheckpoint(path, join(snapRoot, String(snaps.size))));
    }
    for (const m of missing) log(`${o.reportOnly ? 'no stored points for' : 'missing checkpoint'} ${m.path} (${m.usedBy}): its points are skipped`);
    const runnable = grid.flatMap((p) => {
      const path = join(o.modelsDir, checkpointName(o.modelPrefix, p.method, p.ratio));
      const snap = snaps.get(path);
      return snap ? [{ p, path, snap, key: pointKey(p, s, snap.sha256, suiteSha) }] : [];
    });
    const todo = o.reportOnly ? [] : runnable.filter((x) => !store.has(x.key));
    const reused = runnable.length - runnable.filter((x) => !store.has(x.key)).length;
    log(
      `hyperscale: ${grid.length} grid points, ${runnable.length} runnable, ${reused} already finished, ${todo.length} to run; ${problems.length} problems (suite ${suiteSha}), KV budget ${s.kvBudgetTokens} tokens, backend ${backend}`,
    );
    if (o.reportOnly && reused < runnable.length)
      log('--report-only: points missing from the results file (not run yet, or run on another suite version or settings) are left out');
    const progress = new Progress(
      todo.reduce((sum, x) => sum + pointWeight(x.p, problems), 0),
      todo.length,
      o.progressOut ?? process.stderr,
    );
    for (const x of todo) {
      const model = loaded.get(x.path) ?? (await loadModelForBackend(x.snap.dir));
      loaded.set(x.path, model);
      progress.start(pointLabel(x.p), pointWeight(x.p, problems), problems.length);
      const temperature = temperatureOf(x.p.W, s);
      const { summary } = await evaluate(
        model,
        problems,
        {
          method: x.p.method,
          ratio: x.p.ratio,
          n: x.p.W,
          maxTokens: x.p.L,
          temperature,
          seed: s.seed,
          kvBudgetTokens: s.kvBudgetTokens,
          maxBatch: s.maxBatchCap,
        },
        (done) => progress.tick(done),
      );
      const window = x.p.method === 'dms' ? (model.config.dms?.window ?? null) : x.p.method === 'dms-w0' ? 0 : null;
      const result: PointResult = {
        method: x.p.method,
        ratio: x.p.ratio,
        window,
        W: x.p.W,
        L: x.p.L,
        accuracy: summary.accuracy,
        kv_reads_per_problem: summary.kv_reads_per_problem,
        peak_kv_tokens_per_problem: summary.peak_kv_tokens_per_problem,
        problems_per_s: summary.problems_per_s,
        tokens_per_s: summary.tokens_per_s,
        max_batch: summary.max_batch,
        mean_batch: summary.mean_batch,
        preemptions: summary.preemptions,
        achieved_ratio: summary.achieved_ratio,
        temperature,
        completion_tokens_per_problem: summary.completion_tokens_per_problem,
        wall_s: summary.wall_s,
        checkpoint: { path: x.path, sha256: x.snap.sha256, step: x.snap.step, written_at: x.snap.writtenAt },
      };
      store.append({ key: x.key, finished_at: new Date().toISOString(), backend, result });
      progress.finish(
        `accuracy ${(100 * summary.accuracy).toFixed(1)}%, reads ${compact(summary.kv_reads_per_problem)}, peak ${compact(summary.peak_kv_tokens_per_problem)}, ${summary.problems_per_s.toFixed(2)} problems/s, batch max ${summary.max_batch} mean ${summary.mean_batch.toFixed(1)}, ${summary.wall_s.toFixed(1)}s`,
      );
    }
    progress.close();
    const points = runnable.flatMap((x) => (store.has(x.key) ? [store.get(x.key)!.result] : []));
    // The issue grid at >= 200 problems, at the seconds per expected token measured so far.
    const estimateProblems = problemSet(s.seedStart, Math.max(200, s.numProblems), STANDARD_MIX);
    const doc = buildDocument({
      label: o.label,
      command: o.command,
      modelName: o.modelPrefix,
      snapshots: [...snaps].map(([path, snap]) => ({ usedBy: usedBy(byPath.get(path)!), snap })),
      missing,
      problems,
      suiteSha,
      mix: STANDARD_MIX,
      settings: s,
      backend,
      grid: o.grid,
      skippedPoints: grid.length - runnable.length,
      points,
      fullGridEstimateS: estimateSeconds(expandGrid(FULL_GRID), estimateProblems, points, problems),
    });
    const files = await writeOutputs(o, doc);
    return { doc, files, ran: todo.length, reused };
  } finally {
    for (const m of loaded.values()) m.dispose();
    rmSync(snapRoot, { recursive: true, force: true });
  }
}

async function writeOutputs(o: BenchOptions, doc: HyperscaleDoc): Promise<string[]> {
  mkdirSync(o.outDir, { recursive: true });
  const files: string[] = [];
  const jsonPath = join(o.outDir, 'hyperscale.json');
  writeFileSync(jsonPath, `${JSON.stringify(doc, null, 2)}\n`);
  files.push(jsonPath);
  const base = doc.model.checkpoints.find((c) => c.path.endsWith('-base'));
  const subtitle = [`${doc.problems} problems, KV budget ${doc.kv_budget_tokens} tokens, ${doc.status} run${base ? `, base step ${base.step ?? '?'}` : ''}`];
  if (doc.model.missing.length) subtitle.push(`missing checkpoints: ${doc.model.missing.map((m) => m.used_by).join(', ')}`);
  const plotNames: string[] = [];
  if (doc.points.length > 0) {
    const axes = [
      ['reads', 'Accuracy vs KV token reads per problem'],
      ['peak', 'Accuracy vs peak KV tokens per problem'],
    ] as const;
    for (const [axis, title] of axes) {
      const spec = plotSpec(doc.points, { axis, title, subtitle, methods: ['none', 'dms', 'tova', 'h2o', 'quest', 'window'] });
      files.push(...(await writePlot(o.outDir, `hyperscale-${axis}`, spec)));
      plotNames.push(`hyperscale-${axis}.svg`, `hyperscale-${axis}.png`);
    }
    const ablation = doc.points.filter(
      (p) => p.method === 'none' || ((p.method === 'dms' || p.method === 'dms-w0') && doc.grid.ablationRatios.includes(p.ratio)),
    );
    if (ablation.some((p) => p.method === 'dms-w0')) {
      const spec = plotSpec(ablation, { axis: 'reads', title: 'Delayed (dms) vs immediate (dms-w0) eviction', subtitle });
      files.push(...(await writePlot(o.outDir, 'hyperscale-ablation', spec)));
      plotNames.push('hyperscale-ablation.svg', 'hyperscale-ablation.png');
    }
  }
  const notes = o.notesFile ? readFileSync(o.notesFile, 'utf8') : '';
  const mdPath = join(o.outDir, 'hyperscale.md');
  writeFileSync(mdPath, renderReport(doc, plotNames, notes));
  files.push(mdPath);
  return files;
}

// The model catalog built from models/*/config.json: base folders serve the training-free
// methods, -dms-r{R} folders add DMS ratios, context length is max_position_embeddings.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildCatalog, loadModelCatalog } from '../../gateway/model-catalog.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function checkpoint(folder: string, config: unknown) {
  mkdirSync(join(dir, folder), { recursive: true });
  writeFileSync(join(dir, folder, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
}

describe('loadModelCatalog', () => {
  it('scans base and DMS folders into one model per name', async () => {
    dir = mkdtempSync(join(tmpdir(), 'dms-models-'));
    checkpoint('reasoner-base', { max_position_embeddings: 1024, dms: null });
    checkpoint('reasoner-dms-r8', { max_position_embeddings: 1024 });
    checkpoint('reasoner-dms-r2', { max_position_embeddings: 1024 });
    checkpoint('reasoner-dms-r4', { max_position_embeddings: 768 });
    checkpoint('other', { max_position_embeddings: 256 });
    checkpoint('broken', '{ not json');
    checkpoint('no-context', { hidden_size: 8 });
    mkdirSync(join(dir, 'empty-folder'));
    const catalog = await loadModelCatalog(dir);
    expect(catalog).toEqual({
      defaultModel: 'reasoner',
      models: [
        { name: 'other', contextLength: 256, methods: ['none', 'window', 'tova', 'h2o', 'quest'], dmsRatios: [] },
        { name: 'reasoner', contextLength: 768, methods: ['none', 'window', 'tova', 'h2o', 'quest', 'dms'], dmsRatios: [2, 4, 8] },
      ],
    });
    expect((await loadModelCatalog(dir, 'other')).defaultModel).toBe('other');
  });

  it('is empty (no default) when the folder does not exist', async () => {
    dir = join(tmpdir(), `dms-missing-${Date.now()}`);
    expect(await loadModelCatalog(dir)).toEqual({ defaultModel: '', models: [] });
  });
});

describe('buildCatalog', () => {
  it('serves only dms for a model without a base checkpoint', () => {
    dir = mkdtempSync(join(tmpdir(), 'dms-models-'));
    const catalog = buildCatalog([{ folder: 'x-dms-r4', contextLength: 100 }]);
    expect(catalog).toEqual({ defaultModel: 'x', models: [{ name: 'x', contextLength: 100, methods: ['dms'], dmsRatios: [4] }] });
  });

  it('does not serve retrofit variants kept for evaluation (the w=0 ablation) or training state', () => {
    dir = mkdtempSync(join(tmpdir(), 'dms-models-'));
    const catalog = buildCatalog([
      { folder: 'x-base', contextLength: 100 },
      { folder: 'x-dms-r4', contextLength: 100 },
      { folder: 'x-dms-r4-w0', contextLength: 100 },
      { folder: 'x-dms-state', contextLength: 100 },
    ]);
    expect(catalog.models).toEqual([{ name: 'x', contextLength: 100, methods: ['none', 'window', 'tova', 'h2o', 'quest', 'dms'], dmsRatios: [4] }]);
  });
});

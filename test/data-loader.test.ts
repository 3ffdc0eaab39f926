import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { smearAugmentation } from '../src/data/augmentation.js';
import type { Batch } from '../src/data/data-loader.js';
import { prepareDataset, type DatasetOptions } from '../src/data/dataset.js';
import { makeTempDir, writeRealClassFolders } from './data-fixtures.js';

let dir: string;
let options: DatasetOptions;

before(async () => {
  dir = await makeTempDir('loader');
  await writeRealClassFolders(join(dir, 'data'), ['basophil', 'neutrophil', 'platelet'], 8);
  options = {
    source: join(dir, 'data'),
    preprocessing: { size: 40, resize: 'center-crop' },
    cacheDir: join(dir, 'cache'),
    stainNormalization: 'macenko',
    split: { kind: 'holdout', fractions: { train: 0.75, val: 0.25, test: 0 }, seed: 2 },
  };
});
after(() => rm(dir, { recursive: true, force: true }));

async function collect(workers: number, epoch: number, augmentation = smearAugmentation): Promise<Batch[]> {
  const dataset = await prepareDataset({ ...options, workers });
  try {
    const batches: Batch[] = [];
    for await (const batch of dataset.loader('train', { batchSize: 5, order: 'shuffle', seed: 11, augmentation }).epoch(epoch)) batches.push(batch);
    return batches;
  } finally {
    await dataset.close();
  }
}

test('batches are NCHW float32 with labels and paths, covering the split once per epoch', async () => {
  const batches = await collect(2, 0);
  assert.deepEqual(batches.map((batch) => batch.shape[0]), [5, 5, 5, 3]);
  for (const batch of batches) {
    assert.deepEqual(batch.shape.slice(1), [3, 40, 40]);
    assert.equal(batch.x.length, batch.shape[0] * 3 * 40 * 40);
    assert.equal(batch.y.length, batch.paths.length);
    assert.ok(batch.x.every(Number.isFinite));
    batch.paths.forEach((path, i) => assert.equal(['basophil', 'neutrophil', 'platelet'].indexOf(path.split('/').at(-2)!), batch.y[i]));
  }
  const paths = batches.flatMap((batch) => batch.paths);
  assert.equal(new Set(paths).size, 18);
});

test('results depend on (seed, epoch) only: the same with 2 workers or none, different in the next epoch', async () => {
  const withWorkers = await collect(2, 3);
  const inline = await collect(0, 3);
  assert.deepEqual(inline, withWorkers);
  const nextEpoch = await collect(2, 4);
  assert.notDeepEqual(nextEpoch.flatMap((batch) => batch.paths), withWorkers.flatMap((batch) => batch.paths));
});

test('balanced order, dropLast and sequential evaluation order', async () => {
  const dataset = await prepareDataset({ ...options, workers: 1 });
  try {
    const balanced = dataset.loader('train', { batchSize: 4, order: 'balanced', seed: 1, augmentation: null, dropLast: true });
    assert.equal(balanced.batchesPerEpoch, 4);
    let count = 0;
    for await (const batch of balanced.epoch(0)) count += batch.y.length;
    assert.equal(count, 16);
    const evaluation = dataset.loader('val', { batchSize: 4, order: 'sequential', seed: 0, augmentation: null });
    const first: string[] = [];
    for await (const batch of evaluation.epoch(0)) first.push(...batch.paths);
    assert.deepEqual(first, dataset.subset('val').images.map((image) => image.path));
  } finally {
    await dataset.close();
  }
});

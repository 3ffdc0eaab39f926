import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { ChannelStatsAccumulator } from '../src/data/channel-stats.js';
import { loadClassNames } from '../src/data/class-names.js';
import { formatDataSummary } from '../src/data/data-summary.js';
import { prepareDataset, type DatasetOptions } from '../src/data/dataset.js';
import { DataError } from '../src/data/errors.js';
import { loadSplitFile } from '../src/data/split-file.js';
import { makeTempDir, realImages, writeAwkwardImages, writeRealClassFolders } from './data-fixtures.js';

let dir: string;
let folders: string;
const base: Omit<DatasetOptions, 'source'> = {
  preprocessing: { size: 48, resize: 'center-crop' },
  limits: { maxInputPixels: 4_000_000 },
  split: { kind: 'holdout', fractions: { train: 0.5, val: 0.25, test: 0.25 }, seed: 1 },
  workers: 0,
};

before(async () => {
  dir = await makeTempDir('dataset');
  folders = join(dir, 'folders');
  await writeRealClassFolders(folders, ['neutrophil', 'eosinophil', 'lymphocyte'], 6);
  await writeAwkwardImages(join(folders, 'neutrophil'), (await realImages('neutrophil', 1))[0]);
  await mkdir(join(folders, 'platelet'));
  await copyFile((await realImages('platelet', 1))[0], join(folders, 'platelet', 'only.jpg'));
  await mkdir(join(folders, 'unsorted'));
  await writeFile(join(folders, 'unsorted', 'notes.txt'), 'not an image folder');
});
after(() => rm(dir, { recursive: true, force: true }));

test('a class-folder dataset with broken files mixed in loads, with a summary of what was skipped and why', async () => {
  const dataset = await prepareDataset({ ...base, source: folders, onBadImage: 'skip' });
  try {
    const { summary } = dataset;
    assert.deepEqual(dataset.classNames, ['eosinophil', 'lymphocyte', 'neutrophil', 'platelet']);
    assert.equal(summary.listed, 18 + 13 + 1);
    assert.deepEqual(summary.skipped, { corrupt: 1, 'empty-file': 1, truncated: 1, 'not-an-image': 1, 'too-small': 1, 'too-large': 1 });
    assert.equal(summary.loaded, 26);
    assert.deepEqual(summary.perClass, { eosinophil: 6, lymphocyte: 6, neutrophil: 13, platelet: 1 });
    assert.deepEqual(summary.converted, { grayscale: 1, 'alpha-flattened': 1, '16-bit': 1, cmyk: 1, 'exif-rotated': 1 });
    assert.equal(summary.perSplit.train + summary.perSplit.val + summary.perSplit.test, 26);
    assert.ok(summary.warnings.some((warning) => warning.includes('unsorted') && warning.includes('not taken as a class')));
    assert.ok(summary.warnings.some((warning) => warning.includes('"platelet" has a single image')));
    const text = formatDataSummary(summary);
    assert.match(text, /26 of 32 images loaded/);
    assert.match(text, /truncated\.jpg: truncated/);
  } finally {
    await dataset.close();
  }
});

test("onBadImage 'fail' stops at the first bad file in listing order, naming it", async () => {
  await assert.rejects(prepareDataset({ ...base, source: folders, onBadImage: 'fail' }), (error: unknown) => {
    assert.ok(error instanceof DataError);
    assert.equal(error.reason, 'corrupt');
    assert.match(error.file, /neutrophil\/corrupt\.jpg$/);
    return true;
  });
});

test('a class given in the list with no images is an error, not a silent gap', async () => {
  await assert.rejects(
    prepareDataset({ ...base, source: folders, classNames: ['eosinophil', 'lymphocyte', 'neutrophil', 'platelet', 'basophil'] }),
    (error: DataError) => error.reason === 'empty-class' && error.message.includes('basophil'),
  );
});

test('the pixel cache is reused on the next run and invalidated when a file changes', async () => {
  const root = join(dir, 'cached');
  await writeRealClassFolders(root, ['monocyte', 'ig'], 4);
  const options = { ...base, source: root, cacheDir: join(dir, 'cache') };
  const first = await prepareDataset(options);
  await first.close();
  assert.equal(first.summary.decoded, 8);
  assert.equal(first.summary.cacheHits, 0);
  const second = await prepareDataset(options);
  await second.close();
  assert.equal(second.summary.decoded, 0);
  assert.equal(second.summary.cacheHits, 8);
  assert.deepEqual(second.inference.channelStats, first.inference.channelStats, 'cached pixels are the decoded pixels');

  const changed = join(root, 'ig', (await realImages('ig', 1))[0].split('/').pop()!);
  await writeFile(changed, await sharp(await readFile(changed)).flop().jpeg({ quality: 80 }).toBuffer());
  const third = await prepareDataset(options);
  await third.close();
  assert.equal(third.summary.decoded, 1, 'only the changed file is decoded again');
  assert.equal(third.summary.cacheHits, 7);
  const otherPreprocessing = await prepareDataset({ ...options, preprocessing: { size: 40, resize: 'letterbox' } });
  await otherPreprocessing.close();
  assert.equal(otherPreprocessing.summary.decoded, 8, 'a new preprocessing never reuses old pixels');
});

test('a manifest with patients: split by patient, unknown labels and cross-split duplicates reported, run files saved', async () => {
  const root = join(dir, 'manifest');
  await mkdir(join(root, 'img'), { recursive: true });
  const rows = ['path,label,patient_id'];
  const classes = ['basophil', 'monocyte'];
  for (const [c, name] of classes.entries()) {
    const paths = await realImages(name, 12);
    for (const [i, path] of paths.entries()) {
      const file = `img/${name}-${i}.jpg`;
      await copyFile(path, join(root, file));
      rows.push(`${file},${name},P${c}-${i % 4}`);
    }
  }
  await copyFile((await realImages('lymphocyte', 1))[0], join(root, 'img', 'stray.jpg'));
  rows.push('img/stray.jpg,lymphocyte,P9');
  await writeFile(join(root, 'manifest.csv'), `${rows.join('\n')}\n`);

  const dataset = await prepareDataset({ ...base, source: join(root, 'manifest.csv'), classNames: classes, stainNormalization: 'reinhard' });
  try {
    assert.deepEqual(dataset.summary.skipped, { 'unknown-label': 1 });
    assert.equal(dataset.split.groupBy, 'patient');
    const patientSplits = new Map<string, Set<string>>();
    for (const row of rows.slice(1, -1)) {
      const [path, , patient] = row.split(',');
      patientSplits.set(patient, (patientSplits.get(patient) ?? new Set()).add(dataset.split.assignments[path]));
    }
    for (const [patient, splits] of patientSplits) assert.equal(splits.size, 1, `patient ${patient} is in ${[...splits]}`);

    const train = dataset.subset('train');
    const accumulator = new ChannelStatsAccumulator();
    for (const image of await train.store.pixels(train.images)) accumulator.add(image.pixels);
    assert.deepEqual(dataset.inference.channelStats, accumulator.result(), 'mean/std are measured on the stain-normalised training split');

    const runDir = join(root, 'run');
    await dataset.saveTo(runDir);
    assert.deepEqual(await loadClassNames(join(runDir, 'classes.json')), classes);
    const saved = JSON.parse(await readFile(join(runDir, 'preprocessing.json'), 'utf8'));
    assert.equal(saved.stainNormalizer.method, 'reinhard');
    const reused = await prepareDataset({
      ...base,
      source: join(root, 'manifest.csv'),
      classNames: classes,
      split: { kind: 'file', path: join(runDir, 'split.json') },
      stainNormalization: saved.stainNormalizer,
    });
    await reused.close();
    assert.deepEqual(reused.split.assignments, (await loadSplitFile(join(runDir, 'split.json'))).assignments);
    assert.deepEqual(reused.inference.channelStats, dataset.inference.channelStats);
  } finally {
    await dataset.close();
  }

  // The manifest's own split column wins; the same bytes under two names in train and test are leakage.
  const splitRows = ['path,label,split', ...rows.slice(1, -1).map((row, i) => `${row.split(',').slice(0, 2).join(',')},${i % 4 === 3 ? 'test' : 'train'}`)];
  await copyFile(join(root, 'img', 'basophil-0.jpg'), join(root, 'img', 'basophil-copy.jpg'));
  splitRows.push('img/basophil-copy.jpg,basophil,test');
  await writeFile(join(root, 'with-split.csv'), `${splitRows.join('\n')}\n`);
  const fixed = await prepareDataset({ ...base, split: undefined, source: join(root, 'with-split.csv') });
  await fixed.close();
  assert.equal(fixed.split.spec.kind, 'manifest');
  assert.deepEqual(fixed.summary.skipped, { 'duplicate-across-splits': 1 });
  assert.match(fixed.summary.skippedImages[0].message, /basophil-copy\.jpg: duplicate-across-splits: same content as .*basophil-0\.jpg \(in train\)/);
  assert.equal(fixed.summary.perSplit.test, 6);
});

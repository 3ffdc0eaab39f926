import assert from 'node:assert/strict';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { prepareDataset, type DatasetOptions } from '../src/data/dataset.js';
import { DataError } from '../src/data/errors.js';
import { readCsvManifest } from '../src/data/sources/csv-manifest.js';
import { makeTempDir, realImages } from './data-fixtures.js';

// Defect 1 (the manifest's split column ignored) and defect 7 (duplicate rows counted twice, one
// file under two labels accepted).
let root: string;
const base: Omit<DatasetOptions, 'source'> = { preprocessing: { size: 32, resize: 'center-crop' }, workers: 0 };
const rows: string[] = [];

before(async () => {
  root = await makeTempDir('manifest');
  await mkdir(join(root, 'img'));
  for (const name of ['basophil', 'monocyte']) {
    for (const [i, path] of (await realImages(name, 8)).entries()) {
      await copyFile(path, join(root, 'img', `${name}-${i}.jpg`));
      rows.push(`img/${name}-${i}.jpg,${name},${['train', 'train', 'train', 'train', 'val', 'val', 'test', 'test'][i]}`);
    }
  }
});
after(() => rm(root, { recursive: true, force: true }));

async function manifest(name: string, lines: string[]): Promise<string> {
  const path = join(root, name);
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

const rejection = (reason: string, ...patterns: RegExp[]) => (error: unknown) => {
  assert.ok(error instanceof DataError, String(error));
  assert.equal(error.reason, reason, error.message);
  for (const pattern of patterns) assert.match(error.message, pattern);
  return true;
};

test("the manifest's split column is honoured exactly, and is the default", async () => {
  const path = await manifest('split.csv', ['path,label,split', ...rows]);
  const source = await readCsvManifest(path);
  assert.equal(source.declaredSplits.size, 16, 'a caller sees that the manifest fixes the splits');
  const dataset = await prepareDataset({ ...base, source: path });
  await dataset.close();
  assert.equal(dataset.split.spec.kind, 'manifest');
  const expected = Object.fromEntries(rows.map((row) => [row.split(',')[0], row.split(',')[2]]));
  assert.deepEqual(dataset.split.assignments, expected);
  assert.deepEqual(dataset.summary.perSplit, { train: 8, val: 4, test: 4 });
  const explicit = await prepareDataset({ ...base, source: path, split: { kind: 'manifest' } });
  await explicit.close();
  assert.deepEqual(explicit.split.assignments, expected);
});

test('a computed split over a manifest with a split column is refused, not applied silently', async () => {
  const path = await manifest('split-holdout.csv', ['path,label,split', ...rows]);
  await assert.rejects(
    prepareDataset({ ...base, source: path, split: { kind: 'holdout', fractions: { train: 0.7, val: 0.15, test: 0.15 }, seed: 0 } }),
    rejection('bad-split', /split column/, /holdout/),
  );
  await assert.rejects(prepareDataset({ ...base, source: path, split: { kind: 'k-fold', folds: 4, fold: 0, seed: 0 } }), rejection('bad-split', /k-fold/));
});

test('a split outside train/val/test, or on some rows only, is an error naming the line', async () => {
  const bad = await manifest('bad-split.csv', ['path,label,split', ...rows.slice(0, 3), '', 'img/basophil-3.jpg,basophil,validation']);
  await assert.rejects(readCsvManifest(bad), rejection('bad-manifest', /line 6 has split "validation"; use train, val or test/));
  const partial = await manifest('partial-split.csv', ['path,label,split', rows[0], 'img/basophil-1.jpg,basophil,']);
  await assert.rejects(readCsvManifest(partial), rejection('bad-manifest', /line 2 names a split but line 3 does not/));
});

test('a repeated row is counted once and reported as skipped, naming both lines', async () => {
  const path = await manifest('repeat.csv', ['path,label,split', ...rows, rows[2], `./${rows[5]}`]);
  const dataset = await prepareDataset({ ...base, source: path, onBadImage: 'fail' });
  await dataset.close();
  assert.equal(dataset.summary.loaded, 16);
  assert.equal(dataset.summary.listed, 18);
  assert.deepEqual(dataset.summary.skipped, { duplicate: 2 });
  assert.match(dataset.summary.skippedImages[0].message, /basophil-2\.jpg: duplicate: line 18 of .*repeat\.csv repeats line 4 \(same file, label "basophil"\); it is counted once/);
  assert.match(dataset.summary.skippedImages[1].message, /line 19 .* repeats line 7/);
});

test('one file under two labels is an error naming both lines and labels, and how to fix it', async () => {
  const samePath = await manifest('two-labels.csv', ['path,label', 'img/basophil-0.jpg,basophil', 'img/monocyte-0.jpg,monocyte', 'img/basophil-0.jpg,monocyte']);
  await assert.rejects(readCsvManifest(samePath), rejection('label-conflict', /lines 2 and 4 both list img\/basophil-0\.jpg, labelled "basophil" and "monocyte"/, /delete the wrong line/));
  const otherSplit = await manifest('two-splits.csv', ['path,label,split', rows[0], rows[0].replace('train', 'test')]);
  await assert.rejects(readCsvManifest(otherSplit), rejection('bad-manifest', /lines 2 and 3 both list .* split "train" and "test"/));

  await copyFile(join(root, 'img', 'basophil-0.jpg'), join(root, 'img', 'copy.jpg'));
  const sameBytes = await manifest('same-bytes.csv', ['path,label', ...rows.map((row) => row.split(',').slice(0, 2).join(',')), 'img/copy.jpg,monocyte']);
  await assert.rejects(
    prepareDataset({ ...base, source: sameBytes, split: { kind: 'holdout', fractions: { train: 0.5, val: 0.25, test: 0.25 }, seed: 0 } }),
    rejection('label-conflict', /img\/basophil-0\.jpg \(line 2, "basophil"\) and img\/copy\.jpg \(line 18, "monocyte"\) are the same image \(identical bytes\)/, /remove the wrongly labelled copy/),
  );
});

test('a split column with train and test rows but no val rows: validation patients are drawn from the train rows, the test rows stay', async () => {
  // Each class: 6 train patients of one image and a test patient; a lab that keeps its external cohort as the test set.
  const lines = ['path,label,patient_id,split', ...rows.map((row) => {
    const [path, label] = row.split(',');
    const i = Number(/-(\d+)\.jpg$/.exec(path)![1]);
    return `${path},${label},${label}-P${i},${i === 7 ? 'test' : 'train'}`;
  })];
  const path = await manifest('train-test.csv', lines);
  const first = await prepareDataset({ ...base, source: path });
  await first.close();
  const again = await prepareDataset({ ...base, source: path });
  await again.close();
  assert.deepEqual(first.split.spec, { kind: 'manifest', validationFromTrain: { share: 0.15 / 0.85, seed: 0 } });
  assert.deepEqual(again.split.assignments, first.split.assignments, 'the same manifest gives the same split');
  for (const line of lines.slice(1)) {
    const [file, label, , written] = line.split(',');
    const split = first.split.assignments[file];
    if (written === 'test') assert.equal(split, 'test', `${file} was written as test`);
    else assert.ok(split === 'train' || split === 'val', `${file} (train) moved to ${split}`);
    void label;
  }
  assert.deepEqual(first.summary.perSplit, { train: 12, val: 2, test: 2 }, 'one validation patient of each class');
  for (const name of ['basophil', 'monocyte']) {
    assert.equal(Object.entries(first.split.assignments).filter(([file, split]) => split === 'val' && file.includes(name)).length, 1, `${name}: one validation patient`);
  }
  assert.ok((first.summary.notes ?? []).some((note) => /names no validation rows: 2 of its 14 training patients .* drawn to validate; the test rows stay as written/.test(note)), (first.summary.notes ?? []).join('\n'));

  // A split column that names val rows is honoured exactly (no rows drawn), as before.
  const withVal = await prepareDataset({ ...base, source: await manifest('with-val.csv', ['path,label,split', ...rows]) });
  await withVal.close();
  assert.deepEqual(withVal.split.spec, { kind: 'manifest' });
  assert.ok(!(withVal.summary.notes ?? []).some((note) => /no validation rows/.test(note)));
});

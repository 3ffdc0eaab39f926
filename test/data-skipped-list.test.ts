import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseCsv } from '../src/data/csv.js';
import { formatDataSummary } from '../src/data/data-summary.js';
import { prepareDataset, type DatasetOptions } from '../src/data/dataset.js';
import { writeSkippedList } from '../src/data/files/skipped-list.js';
import { makeTempDir, realImages, writeRealClassFolders } from './data-fixtures.js';

// Defect 7: train named 20 of 515 skipped files and kept no list; evaluate never said how many it skipped.
let dir: string;
let root: string;
const base: Omit<DatasetOptions, 'source'> = {
  preprocessing: { size: 32, resize: 'center-crop' },
  split: { kind: 'holdout', fractions: { train: 0.5, val: 0.25, test: 0.25 }, seed: 2 },
  workers: 0,
};

before(async () => {
  dir = await makeTempDir('skipped');
  root = join(dir, 'data');
  await writeRealClassFolders(root, ['eosinophil', 'platelet'], 8);
  const jpeg = await readFile((await realImages('eosinophil', 1))[0]);
  for (let i = 0; i < 24; i++) await writeFile(join(root, 'platelet', `cut-${String(i).padStart(2, '0')}.jpg`), jpeg.subarray(0, 1000 + 100 * i));
  await writeFile(join(root, 'platelet', 'odd, "quoted" name.jpg'), jpeg.subarray(0, 500));
});
after(() => rm(dir, { recursive: true, force: true }));

test('every skipped file is kept in the summary and written as CSV; the console names 20 and says where the rest are', async () => {
  const dataset = await prepareDataset({ ...base, source: root });
  await dataset.close();
  const { summary } = dataset;
  assert.equal(summary.skippedImages.length, 25);
  assert.deepEqual(summary.skippedPerSplit, { train: 0, val: 0, test: 0, unassigned: 25 }, 'a computed split has not placed them');

  const listPath = join(dir, 'run', 'skipped.csv');
  await mkdir(join(dir, 'run'));
  await writeSkippedList(listPath, summary.skippedImages);
  const [header, ...rows] = parseCsv(await readFile(listPath, 'utf8'));
  assert.deepEqual(header, ['path', 'reason', 'message']);
  assert.equal(rows.length, 25);
  assert.ok(rows.every(([, reason]) => reason === 'truncated'));
  const odd = rows.find(([path]) => path.endsWith('odd, "quoted" name.jpg'));
  assert.ok(odd, 'a path with a comma and quotes survives the CSV round trip');
  assert.match(odd[2], /^it ends after 500 bytes without the JPEG end-of-image marker/);
  assert.deepEqual(await readdir(join(dir, 'run')), ['skipped.csv'], 'no temp file left behind');

  const text = formatDataSummary(summary, { skippedListPath: listPath });
  assert.match(text, /skipped 25: truncated 25\n/);
  assert.equal(text.split('\n').filter((line) => line.includes(': truncated: ')).length, 20);
  assert.match(text, /… and 5 more\n {2}the full list of 25 skipped files is in .*run\/skipped\.csv/);
});

test('with a saved split, each skipped file is counted in the split it belongs to (what evaluate reports)', async () => {
  const clean = join(dir, 'clean');
  await writeRealClassFolders(clean, ['eosinophil', 'platelet'], 8);
  const first = await prepareDataset({ ...base, source: clean });
  await first.close();
  await first.saveTo(join(dir, 'clean-run'));
  const testKeys = Object.entries(first.split.assignments).filter(([, split]) => split === 'test').map(([key]) => key);
  for (const key of testKeys.slice(0, 2)) await writeFile(join(clean, key), 'overwritten by accident');

  const again = await prepareDataset({ ...base, source: clean, split: { kind: 'file', path: join(dir, 'clean-run', 'split.json') } });
  await again.close();
  assert.deepEqual(again.summary.skippedPerSplit, { train: 0, val: 0, test: 2, unassigned: 0 });
  assert.deepEqual(again.summary.skippedImages.map((image) => [image.split, image.reason]), [['test', 'not-an-image'], ['test', 'not-an-image']]);
  assert.equal(again.summary.perSplit.test, testKeys.length - 2);
  assert.match(formatDataSummary(again.summary), /skipped 2: not-an-image 2; by split: test 2\n/);
});

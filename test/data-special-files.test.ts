import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { prepareDataset, type DatasetOptions } from '../src/data/dataset.js';
import { DataError } from '../src/data/errors.js';
import { listImageFiles } from '../src/data/files/list-image-files.js';
import { readRegularFile } from '../src/data/files/regular-file.js';
import { loadImageForInference } from '../src/data/inference.js';
import { readSource } from '../src/data/sources/read-source.js';
import { makeTempDir, realImages, writeRealClassFolders } from './data-fixtures.js';

// Defect 6 (FIFOs block forever) and defect 7 (symlinks skipped silently by train, followed by predict).
// A blocking read of a FIFO never returns, so every test has a timeout: a hang fails, not stalls.
const timeout = 20_000;
let dir: string;
let root: string;
let outside: string;
const base: Omit<DatasetOptions, 'source'> = {
  preprocessing: { size: 32, resize: 'center-crop' },
  split: { kind: 'holdout', fractions: { train: 0.5, val: 0.25, test: 0.25 }, seed: 1 },
  workers: 0,
};

before(async () => {
  dir = await makeTempDir('special-files');
  root = join(dir, 'data');
  outside = join(dir, 'outside');
  await writeRealClassFolders(root, ['basophil', 'monocyte'], 4);
  await mkdir(outside);
  const [linked] = await realImages('basophil', 6).then((paths) => paths.slice(5));
  await copyFile(linked, join(outside, 'target.jpg'));
  execFileSync('mkfifo', [join(root, 'basophil', 'x.jpg')]);
  execFileSync('mkfifo', [join(outside, 'pipe.jpg')]);
  await symlink(join(outside, 'target.jpg'), join(root, 'basophil', 'linked.jpg'));
  await symlink(join(outside, 'gone.jpg'), join(root, 'basophil', 'dangling.jpg'));
  await symlink('loop.jpg', join(root, 'monocyte', 'loop.jpg'));
  await symlink(join(outside, 'pipe.jpg'), join(root, 'monocyte', 'to-pipe.jpg'));
  await symlink(root, join(root, 'monocyte', 'back-to-root'));
  await writeFile(join(root, 'monocyte', '.hidden.jpg'), 'a dot-file is never an input');
});
after(() => rm(dir, { recursive: true, force: true }));

const reasonsOf = (skipped: { file: string; reason: string }[]) => Object.fromEntries(skipped.map((s) => [s.file.slice(root.length + 1), s.reason]));

test('training: a FIFO, a dangling link, a link loop and a link to a FIFO are skipped with their reasons; a link to an image is followed', { timeout }, async () => {
  const dataset = await prepareDataset({ ...base, source: root });
  try {
    assert.deepEqual(reasonsOf(dataset.summary.skippedImages), {
      'basophil/x.jpg': 'not-a-file',
      'basophil/dangling.jpg': 'dangling-symlink',
      'monocyte/loop.jpg': 'symlink-loop',
      'monocyte/to-pipe.jpg': 'not-a-file',
    });
    assert.match(dataset.summary.skippedImages.find((s) => s.reason === 'not-a-file')!.message, /x\.jpg: not-a-file: is a FIFO \(named pipe\)/);
    assert.deepEqual(dataset.summary.perClass, { basophil: 5, monocyte: 4 }, 'the symlinked image is trained on');
    assert.equal(dataset.summary.listed, 13);
    assert.ok(dataset.summary.warnings.some((w) => w.includes('back-to-root') && w.includes('not read')), 'a sub-folder in a class folder is named, not silently ignored');
  } finally {
    await dataset.close();
  }
});

test("training with onBadImage 'fail' stops at the first entry that is not a readable file, naming it", { timeout }, async () => {
  await assert.rejects(prepareDataset({ ...base, source: root, onBadImage: 'fail' }), (error: DataError) => error.reason === 'dangling-symlink' || error.reason === 'not-a-file');
});

test('a FIFO named in a manifest, or given as the manifest, never blocks', { timeout }, async () => {
  const manifest = join(root, 'manifest.csv');
  await writeFile(manifest, 'path,label\nbasophil/x.jpg,basophil\nbasophil/linked.jpg,basophil\n');
  const source = await readSource(manifest);
  assert.equal(source.samples.length, 2, 'listing a manifest reads no image');
  await assert.rejects(prepareDataset({ ...base, source: manifest, onBadImage: 'fail' }), (error: DataError) => {
    assert.equal(error.reason, 'not-a-file');
    assert.equal(error.file, join(root, 'basophil', 'x.jpg'));
    return true;
  });
  execFileSync('mkfifo', [join(dir, 'manifest-pipe.csv')]);
  await assert.rejects(readSource(join(dir, 'manifest-pipe.csv')), (error: DataError) => error.reason === 'not-a-file' && error.message.includes('manifest-pipe.csv'));
});

test('inference: a FIFO path is refused as not-a-file, a symlinked image is read', { timeout }, async () => {
  const inference = {
    preprocessing: base.preprocessing,
    limits: { maxInputPixels: 4_000_000, minSide: 32 },
    stainNormalizer: { method: 'none' as const },
    channelStats: { mean: [0.5, 0.5, 0.5] as [number, number, number], std: [0.25, 0.25, 0.25] as [number, number, number] },
  };
  await assert.rejects(loadImageForInference(join(root, 'basophil', 'x.jpg'), inference), (error: DataError) => error.reason === 'not-a-file');
  await assert.rejects(loadImageForInference(join(root, 'basophil', 'dangling.jpg'), inference), (error: DataError) => error.reason === 'dangling-symlink');
  await assert.rejects(readRegularFile(root), (error: DataError) => error.reason === 'not-a-file' && /a folder/.test(error.message));
  const image = await loadImageForInference(join(root, 'basophil', 'linked.jpg'), inference);
  assert.deepEqual(image.shape, [1, 3, 32, 32]);
});

test('listImageFiles: one rule with training — links followed, broken entries reported, loops cut, dot-files and the excluded folder left out', { timeout }, async () => {
  const overlays = join(root, 'basophil', 'overlays');
  await mkdir(overlays, { recursive: true });
  await copyFile(join(outside, 'target.jpg'), join(overlays, 'old.attention.jpg'));
  try {
    const { files, skipped } = await listImageFiles([root, join(outside, 'target.jpg'), join(dir, 'missing.jpg'), join(outside, 'pipe.jpg')], { exclude: overlays });
    const inRoot = files.filter((file) => file.startsWith(root)).map((file) => file.slice(root.length + 1));
    assert.equal(inRoot.filter((file) => file.startsWith('basophil/')).length, 5);
    assert.ok(inRoot.includes('basophil/linked.jpg'), 'a symlinked image is listed, as in training');
    assert.equal(inRoot.filter((file) => file.startsWith('monocyte/')).length, 4);
    assert.deepEqual([...inRoot].sort(), inRoot, 'sorted');
    assert.ok(!files.some((file) => file.includes('overlays') || file.includes('.hidden')));
    assert.equal(files.at(-1), join(outside, 'target.jpg'), 'a file given by name is taken as given');
    assert.deepEqual(
      skipped.map((s) => [s.file.slice(dir.length + 1), s.reason]),
      [
        ['data/basophil/dangling.jpg', 'dangling-symlink'],
        ['data/basophil/x.jpg', 'not-a-file'],
        ['data/monocyte/loop.jpg', 'symlink-loop'],
        ['data/monocyte/to-pipe.jpg', 'not-a-file'],
        ['data/monocyte/back-to-root', 'symlink-loop'],
        ['missing.jpg', 'missing-file'],
        ['outside/pipe.jpg', 'not-a-file'],
      ],
    );
  } finally {
    await rm(overlays, { recursive: true, force: true });
  }
});

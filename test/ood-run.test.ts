// The out-of-distribution check end to end on a tiny real run: training fits it (ood.json +
// ood.safetensors, bound to the weights), the prediction core flags a blank field and noise and sets
// them aside, not the run's own validation images; a damaged, edited or foreign check is refused by
// name; a run without one fails closed until "aplnet evaluate" fits it; predict shows the score.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { blankImage, loadSplitFile, noiseImage, readSource, type RgbImage } from '../src/data/index.js';
import { loadRun, predictImages, runPath, type ImagePrediction } from '../src/run/index.js';
import { aplnet, copyRun, trainArgs, trainTinyRunSync } from './helpers/tiny-run.js';

let root: string;
let run: string;
let data: string;
let outliers: string[];

async function writePng(image: RgbImage, path: string): Promise<string> {
  await sharp(Buffer.from(image.pixels), { raw: { width: image.width, height: image.height, channels: 3 } }).png().toFile(path);
  return path;
}

async function splitPaths(split: 'val' | 'test'): Promise<string[]> {
  const file = await loadSplitFile(runPath(run, 'split'));
  const source = await readSource(data);
  return source.samples.filter((s) => file.assignments[s.key] === split).map((s) => s.path);
}

before(async () => {
  ({ root, run, data } = trainTinyRunSync());
  outliers = [
    await writePng(blankImage(144, [255, 255, 255]), join(root, 'white.png')),
    await writePng(blankImage(144, [0, 0, 0]), join(root, 'black.png')),
    await writePng(noiseImage(144, 'uniform', 1), join(root, 'noise.png')),
  ];
});
after(() => rmSync(root, { recursive: true, force: true }));

test('training fits the check: ood.json bound to the weights and the statistics file, in the calibration\'s mode', () => {
  const record = JSON.parse(readFileSync(runPath(run, 'ood'), 'utf8'));
  const calibration = JSON.parse(readFileSync(runPath(run, 'calibration'), 'utf8'));
  assert.equal(record.method, 'mahalanobis-l2+image-stats');
  assert.equal(record.weightsSha256, calibration.weightsSha256);
  assert.equal(record.tta, calibration.tta);
  assert.equal(record.flagShare, 0.02);
  assert.ok(record.validationFlagged <= 0.02);
  assert.deepEqual(record.fittedOn, { statistics: 'train', threshold: 'val' });
  assert.ok(existsSync(runPath(run, 'oodStatistics')));
});

test('a blank field and noise are flagged and set aside; the run\'s own validation images are not', async () => {
  const loaded = await loadRun(run);
  try {
    const val = await splitPaths('val');
    const results = await predictImages(loaded, [...outliers, ...val]);
    const predictions = results.map((r) => {
      assert.ok(r.ok, JSON.stringify(r));
      return r as ImagePrediction;
    });
    for (const p of predictions.slice(0, outliers.length)) {
      assert.equal(p.ood?.flagged, true, `${p.file}: score ${p.ood?.score} threshold ${p.ood?.threshold}`);
      assert.ok(p.ood!.score > p.ood!.threshold);
      assert.equal(p.refer, true);
      assert.equal(p.referReason, 'out-of-distribution');
      assert.ok(p.notes.some((n) => /does not look like the training images/.test(n) && /set aside/.test(n)), p.notes.join('; '));
    }
    const own = predictions.slice(outliers.length);
    assert.ok(own.length > 0);
    // The threshold was fitted to flag at most 2% of these very images.
    for (const p of own) {
      assert.equal(p.ood?.flagged, false, `${p.file}: score ${p.ood?.score} threshold ${p.ood?.threshold}`);
      assert.notEqual(p.referReason, 'out-of-distribution');
    }
  } finally {
    loaded.model.dispose();
  }
});

test('a missing, edited, foreign or damaged check is refused by name, saying how to refit', async () => {
  const cases: [string, (copy: string) => void, RegExp][] = [
    ['missing', (copy) => rmSync(runPath(copy, 'ood')), /ood\.json.*no out-of-distribution check.*aplnet evaluate/s],
    ['edited threshold', (copy) => editRecord(copy, (r) => ({ ...r, threshold: -1 })), /ood\.json is not a valid out-of-distribution record \(threshold/],
    ['other weights', (copy) => editRecord(copy, (r) => ({ ...r, weightsSha256: '0'.repeat(64) })), /ood\.json was fitted for other weights/],
    ['other TTA mode', (copy) => editRecord(copy, (r) => ({ ...r, tta: r.tta === 'on' ? 'off' : 'on' })), /ood\.json was fitted with test-time augmentation/],
    ['statistics missing', (copy) => rmSync(runPath(copy, 'oodStatistics')), /ood\.safetensors is missing/],
    ['statistics damaged', (copy) => flipByte(runPath(copy, 'oodStatistics')), /ood\.safetensors does not match the digest recorded in .*ood\.json/],
  ];
  for (const [name, damage, message] of cases) {
    const copy = copyRun(run, root, `ood-${name.replace(/ /g, '-')}`);
    damage(copy);
    await assert.rejects(loadRun(copy), (err: Error) => message.test(err.message), name);
    // evaluate's loading keeps going without it; the prediction core still refuses.
    const optional = await loadRun(copy, { calibration: 'optional' });
    try {
      assert.equal(optional.ood, null, name);
      await assert.rejects(predictImages(optional, outliers), /ood\.json is missing or does not match the weights.*aplnet evaluate/, name);
    } finally {
      optional.model.dispose();
    }
  }
});

function editRecord(copy: string, edit: (record: Record<string, unknown>) => Record<string, unknown>): void {
  const path = runPath(copy, 'ood');
  writeFileSync(path, JSON.stringify(edit(JSON.parse(readFileSync(path, 'utf8')))));
}

function flipByte(path: string): void {
  const bytes = readFileSync(path);
  bytes[bytes.length - 10] ^= 0x40;
  writeFileSync(path, bytes);
}

test('aplnet evaluate fits a missing check and reports the in-distribution flag rate; predict shows the score', () => {
  const copy = copyRun(run, root, 'ood-refit');
  rmSync(runPath(copy, 'ood'));
  rmSync(runPath(copy, 'oodStatistics'));
  const refused = aplnet(['predict', copy, outliers[0]]);
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /aplnet evaluate/);
  const evaluated = aplnet(['evaluate', copy, '--threads', '1', '--workers', '0', '--cache-dir', join(root, 'cache')]);
  assert.equal(evaluated.status, 0, evaluated.stderr);
  assert.match(evaluated.stderr, /out-of-distribution check fitted now/);
  assert.match(evaluated.stdout, /out-of-distribution check: \d+ of \d+ test images flagged \(\d+\.\d%\) and set aside; its threshold was fitted to flag at most 2\.0% of validation images/);
  assert.ok(existsSync(runPath(copy, 'ood')));
  const table = aplnet(['predict', copy, ...outliers, '--threads', '1']);
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, /OOD score/);
  assert.equal((table.stdout.match(/set aside: not like the training images/g) ?? []).length, outliers.length);
  const csv = aplnet(['predict', copy, outliers[2], '--format', 'csv', '--threads', '1']);
  const [header, row] = csv.stdout.trim().split('\n').map((line) => line.split(','));
  assert.equal(row[header.indexOf('ood_flagged')], 'true');
  assert.equal(row[header.indexOf('refer_reason')], 'out-of-distribution');
  assert.ok(Number(row[header.indexOf('ood_score')]) > Number(row[header.indexOf('ood_threshold')]));
  const json = JSON.parse(aplnet(['predict', copy, outliers[1], '--format', 'json', '--threads', '1']).stdout);
  assert.equal(json[0].ood.flagged, true);
});

test('train --resume fits a missing check on a finished run, as it does a missing temperature', () => {
  const copy = copyRun(run, root, 'ood-resume');
  rmSync(runPath(copy, 'ood'));
  const before = readFileSync(runPath(copy, 'calibration'), 'utf8');
  const resumed = aplnet(trainArgs(data, copy, root, '--epochs', '2', '--resume'));
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, /out-of-distribution check .* fitted on \d+ training images; threshold [\d.]+ flags/);
  const record = JSON.parse(readFileSync(runPath(copy, 'ood'), 'utf8'));
  assert.equal(record.weightsSha256, JSON.parse(before).weightsSha256);
  assert.deepEqual(JSON.parse(readFileSync(runPath(copy, 'calibration'), 'utf8')).temperature, JSON.parse(before).temperature);
});

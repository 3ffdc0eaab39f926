// End to end, as a user runs it: train one epoch on a tiny real sample, then evaluate, predict and
// explain through the real command line (a child process), on good and on broken input.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { panelLayout } from '../src/explain/index.js';

const PBC_DIR = fileURLToPath(new URL('../../../shared/data/pbc-8class/', import.meta.url));
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const CLASSES = ['basophil', 'eosinophil', 'lymphocyte'];
const PER_CLASS = 8;
const INPUT_SIZE = 144; // aplnet-s-ap, the default preset

let root: string;
let data: string;
let run: string;

function aplnet(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function firstImage(className: string): string {
  return join(data, className, readdirSync(join(data, className)).sort()[0]);
}

before(() => {
  root = mkdtempSync(join(tmpdir(), 'aplnet-cli-'));
  data = join(root, 'data');
  run = join(root, 'run');
  for (const name of CLASSES) {
    mkdirSync(join(data, name), { recursive: true });
    for (const file of readdirSync(join(PBC_DIR, name)).sort().slice(0, PER_CLASS)) copyFileSync(join(PBC_DIR, name, file), join(data, name, file));
  }
  writeFileSync(join(data, 'CREDITS.md'), 'Images: Acevedo A et al., Data in Brief 30:105474 (2020), CC BY 4.0.\n');
  const trained = aplnet('train', data, '--out', run, '--epochs', '1', '--batch', '8', '--threads', '2', '--workers', '0', '--cache-dir', join(root, 'cache'));
  assert.equal(trained.status, 0, trained.stderr);
});

after(() => rmSync(root, { recursive: true, force: true }));

test('evaluate writes metrics.json with every metric, refits calibration.json, and a report with charts and credit', () => {
  const result = aplnet('evaluate', run, '--threads', '2', '--workers', '0');
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /accuracy/);
  assert.match(result.stdout, /report: .*report\.html/);
  const metrics = JSON.parse(readFileSync(join(run, 'metrics.json'), 'utf8'));
  assert.equal(metrics.split, 'test');
  for (const report of [metrics.uncalibrated, metrics.calibrated]) {
    for (const key of ['accuracy', 'balancedAccuracy', 'macroF1', 'weightedF1', 'perClass', 'confusionMatrix', 'roc', 'calibration']) {
      assert.ok(key in report.images, `metrics.json lacks images.${key}`);
    }
    assert.deepEqual(report.classNames, CLASSES);
    assert.equal(report.images.confusionMatrix.length, CLASSES.length);
    assert.equal(typeof report.images.calibration.expectedCalibrationError, 'number');
    assert.equal(report.patients, null); // class folders carry no patient ids
  }
  assert.equal(metrics.uncalibrated.temperature, 1);
  const calibration = JSON.parse(readFileSync(join(run, 'calibration.json'), 'utf8'));
  assert.equal(calibration.fittedOn, 'val');
  assert.equal(calibration.temperature, metrics.calibrated.temperature);
  const html = readFileSync(join(run, 'report.html'), 'utf8');
  assert.match(html, /<svg/);
  assert.match(html, /data:image\/png;base64,/); // the attention gallery
  assert.match(html, /Acevedo/);
});

test('predict --format json gives calibrated probabilities that sum to 1 for every image of a folder', () => {
  const result = aplnet('predict', run, join(data, 'eosinophil'), firstImage('basophil'), '--format', 'json', '--threads', '2');
  assert.equal(result.status, 0, result.stderr);
  const predictions = JSON.parse(result.stdout);
  assert.equal(predictions.length, PER_CLASS + 1);
  for (const p of predictions) {
    assert.equal(p.ok, true);
    const sum = Object.values(p.probabilities as Record<string, number>).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 1) < 1e-6, `probabilities of ${p.file} sum to ${sum}`);
    assert.deepEqual(Object.keys(p.probabilities), CLASSES);
    const [best] = Object.entries(p.probabilities as Record<string, number>).sort((a, b) => b[1] - a[1]);
    assert.equal(p.predicted, best[0]);
    assert.equal(p.confidence, best[1]);
    assert.equal(typeof p.refer, 'boolean');
  }
  const forced = JSON.parse(aplnet('predict', run, firstImage('basophil'), '--format', 'json', '--threshold', '1').stdout);
  assert.equal(forced[0].refer, true);
});

test('predict reports a corrupt and a missing file by name, exits 1, and still predicts the good images with overlays', async () => {
  const corrupt = join(root, 'corrupt.jpg');
  writeFileSync(corrupt, Buffer.concat([readFileSync(firstImage('lymphocyte')).subarray(0, 200)]));
  const missing = join(root, 'no-such-image.png');
  const good = firstImage('lymphocyte');
  const overlays = join(root, 'overlays');
  const result = aplnet('predict', run, good, corrupt, missing, '--format', 'csv', '--overlays', overlays, '--contour', '0.9', '--threads', '2');
  assert.equal(result.status, 1);
  assert.match(result.stderr, /corrupt\.jpg/);
  assert.match(result.stderr, /no-such-image\.png/);
  const lines = result.stdout.trim().split('\n');
  assert.equal(lines.length, 4);
  assert.match(lines[1], /lymphocyte\/.*\.jpg,(basophil|eosinophil|lymphocyte),0\.\d+,(true|false),/);
  const stem = readdirSync(join(data, 'lymphocyte')).sort()[0].replace(/\.jpg$/, '');
  // Named as explain names its methods: the default preset's own map (evidence) and Grad-CAM.
  assert.deepEqual(readdirSync(overlays).sort(), [`${stem}.evidence.png`, `${stem}.gradcam.png`]);
  // Each is the panel a person reads: original | overlay | colour scale.
  const meta = await sharp(join(overlays, `${stem}.evidence.png`)).metadata();
  const layout = panelLayout(INPUT_SIZE, INPUT_SIZE);
  assert.deepEqual([meta.format, meta.width, meta.height], ['png', layout.width, layout.height]);
  const badContour = aplnet('predict', run, good, '--overlays', overlays, '--contour', '1.5');
  assert.equal(badContour.status, 1);
  assert.match(badContour.stderr, /--contour must be in \[0, 1\], got 1\.5/);
  assert.match(aplnet('predict', run, good, '--contour', '0.9').stderr, /give --overlays <dir> too/);
});

test('explain writes overlay and heatmap PNGs for every method and deletion/insertion curves with AUC', async () => {
  const out = join(root, 'explain');
  const image = firstImage('eosinophil');
  const result = aplnet('explain', run, image, '--out', out, '--steps', '8', '--threads', '2');
  assert.equal(result.status, 0, result.stderr);
  const stem = image.split('/').pop()!.replace(/\.jpg$/, '');
  for (const method of ['attention', 'gradcam', 'gradcampp']) {
    for (const kind of ['overlay', 'heatmap']) {
      const meta = await sharp(join(out, `${stem}.${method}.${kind}.png`)).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['png', INPUT_SIZE, INPUT_SIZE], `${method} ${kind}`);
    }
  }
  const report = JSON.parse(readFileSync(join(out, `${stem}.faithfulness.json`), 'utf8'));
  for (const method of ['attention', 'gradcam', 'gradcam++', 'random']) {
    for (const mode of ['deletion', 'insertion']) {
      const curve = report.faithfulness[method][mode];
      assert.equal(curve.fractions.length, 9);
      assert.equal(curve.probabilities.length, 9);
      assert.ok(curve.auc >= 0 && curve.auc <= 1, `${method} ${mode} AUC ${curve.auc}`);
    }
  }
  assert.match(readFileSync(join(out, `${stem}.faithfulness.svg`), 'utf8'), /^<svg/);
  assert.ok(existsSync(join(out, `${stem}.input.png`)));
});

test('commands name the problem when the run folder is not a run', () => {
  const result = aplnet('predict', join(root, 'not-a-run'), firstImage('basophil'));
  assert.equal(result.status, 1);
  assert.match(result.stderr, /not-a-run is not a folder/);
  mkdirSync(join(root, 'empty-folder'));
  const empty = aplnet('predict', join(root, 'empty-folder'), firstImage('basophil'));
  assert.equal(empty.status, 1);
  assert.match(empty.stderr, /empty-folder.*config\.json is missing/);
});

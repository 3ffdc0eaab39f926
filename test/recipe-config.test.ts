// The recipe levers as training options: defaults that keep today's training, old config.json files
// that still load, --resume that refuses a changed lever, and a tiny real run with every lever on
// (weight average saved as the model, resumed bit for bit).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadSafetensors } from '../src/torch/index.js';
import { parseTrainingConfig, TRAINING_DEFAULTS } from '../src/train/training-config.js';
import { resolveTrainingConfig } from '../src/train/resolve-config.js';
import { aplnet, tinyDataset, trainArgs } from './helpers/tiny-run.js';

const root = mkdtempSync(join(tmpdir(), 'aplnet-recipe-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('every lever defaults to off or to today\'s value', () => {
  const { mixup, cutmix, mixProbability, ema, dropPath, rotation, rotationFill, stainJitter, zoom } = TRAINING_DEFAULTS;
  assert.deepEqual({ mixup, cutmix, mixProbability, ema, dropPath, rotation, rotationFill, stainJitter, zoom }, { mixup: 0, cutmix: 0, mixProbability: 1, ema: 0, dropPath: 0, rotation: 'quarter', rotationFill: 'reflect', stainJitter: 1, zoom: 1 });
});

test('a config.json written before the levers existed loads with them off; bad values name the option', () => {
  const old = { data: 'x', model: 'aplnet-s-ap', epochs: 30, batch: 32, lr: 0.002, weightDecay: 0.05, warmupEpochs: 1, schedule: 'cosine', labelSmoothing: 0.05, patience: 8, device: 'cpu', seed: 0, balance: 'none', augment: true, stainNorm: 'none', resize: 'center-crop', onBadImage: 'skip', split: { train: 0.7, val: 0.15, test: 0.15 } };
  const parsed = parseTrainingConfig(old);
  assert.equal(parsed.ema, 0);
  assert.equal(parsed.rotation, 'quarter');
  assert.equal(parsed.zoom, 1);
  assert.equal(resolveTrainingConfig({ epochs: 40 }, parsed, () => {}).ema, 0);
  assert.throws(() => parseTrainingConfig({ data: 'x', ema: 1 }), /--ema/);
  assert.throws(() => parseTrainingConfig({ data: 'x', rotation: 'some' }), /--rotation/);
  assert.throws(() => parseTrainingConfig({ data: 'x', zoom: 0.5 }), /--zoom/);
  assert.throws(() => parseTrainingConfig({ data: 'x', zoom: 1.5, resize: 'letterbox' }), /--zoom 1\.5 needs --resize center-crop/);
  assert.throws(() => resolveTrainingConfig({ ema: 0.99 }, parsed, () => {}), /--ema 0\.99 \(the run has 0\)/);
  assert.equal(parseTrainingConfig({ data: 'x', zoom: 'auto' }).zoom, 'auto');
  assert.throws(() => parseTrainingConfig({ data: 'x', zoom: 'auto', resize: 'letterbox' }), /--zoom auto needs --resize center-crop/);
  assert.throws(() => parseTrainingConfig({ data: 'x', zoom: 'some' }), /--zoom/);
});

test('--zoom auto: train measures the training cells on the whole crops, trains with the zoom it names, records both, and --resume reads the choice back', () => {
  const data = tinyDataset(root, 6);
  const out = join(root, 'zoom-auto');
  const trained = aplnet(trainArgs(data, out, root, '--epochs', '1', '--size', '48', '--zoom', 'auto'));
  assert.equal(trained.status, 0, trained.stderr);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.equal(config.training.zoom, 'auto', 'the request is kept');
  const { zoom, reason, measured } = config.zoomChoice;
  assert.ok(zoom > 1 && zoom <= 4, `real PBC crops leave room around the cell: chose ${zoom}`);
  assert.equal(measured.measured, 12, 'measured on the training images');
  assert.match(trained.stderr, new RegExp(`--zoom auto chose ${zoom}: the stained cell nearest the centre`));
  assert.ok(reason.length > 0);
  const preprocessing = () => JSON.parse(readFileSync(join(out, 'preprocessing.json'), 'utf8')).preprocessing;
  assert.equal(preprocessing().zoom, zoom, 'predict, evaluate and serve read the chosen zoom from the run');

  const resumed = aplnet(trainArgs(data, out, root, '--resume', '--epochs', '2', '--zoom', 'auto'));
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.doesNotMatch(resumed.stderr, /measuring how much/, 'a resumed run does not measure again');
  assert.equal(preprocessing().zoom, zoom);
  const changed = aplnet(trainArgs(data, out, root, '--resume', '--epochs', '3', '--zoom', '1'));
  assert.notEqual(changed.status, 0);
  assert.match(changed.stderr, /--zoom 1 \(the run has "auto"\)/);
  // Without its preprocessing.json the run cannot say which zoom it chose: refused by name, never measured again.
  rmSync(join(out, 'preprocessing.json'));
  const lost = aplnet(trainArgs(data, out, root, '--resume', '--epochs', '3'));
  assert.notEqual(lost.status, 0);
  assert.match(lost.stderr, /preprocessing\.json is missing: it holds the zoom this run trained with/);

  // --folds: the first fold chooses, the others train at its zoom (an ensemble's members must agree).
  const ensemble = join(root, 'zoom-auto-folds');
  const folds = aplnet(trainArgs(data, ensemble, root, '--epochs', '1', '--size', '48', '--zoom', 'auto', '--folds', '2'));
  assert.equal(folds.status, 0, folds.stderr);
  assert.match(folds.stderr, /the other folds train at the zoom fold 1 chose/);
  const memberZoom = (fold: number) => JSON.parse(readFileSync(join(ensemble, `fold-${fold}`, 'preprocessing.json'), 'utf8')).preprocessing.zoom;
  assert.ok(memberZoom(0) > 1);
  assert.equal(memberZoom(1), memberZoom(0));
});

const tensorsOf = (path: string): Map<string, number[]> => {
  const { tensors } = loadSafetensors(path, 'cpu');
  const out = new Map([...tensors].map(([name, t]) => [name, t.toArray()]));
  for (const t of tensors.values()) t.dispose();
  return out;
};

test('a tiny run with every lever on: the average is saved as the model, the live figures are logged, and --resume continues exactly', () => {
  const data = tinyDataset(root, 6);
  const levers = ['--size', '48', '--ema', '0.9', '--mixup', '0.4', '--cutmix', '1', '--mix-probability', '0.7', '--drop-path', '0.2', '--rotation', 'any', '--rotation-fill', 'background', '--stain-jitter', '2', '--zoom', '1.5'];
  const straight = join(root, 'straight');
  const trained = aplnet(trainArgs(data, straight, root, '--epochs', '2', ...levers));
  assert.equal(trained.status, 0, trained.stderr);
  const config = JSON.parse(readFileSync(join(straight, 'config.json'), 'utf8'));
  assert.equal(config.model.dropPath, 0.2);
  assert.equal(config.training.rotation, 'any');
  assert.equal(config.training.zoom, 1.5);
  assert.equal(JSON.parse(readFileSync(join(straight, 'preprocessing.json'), 'utf8')).preprocessing.zoom, 1.5, 'predict and serve read the zoom from the run');
  const metrics = readFileSync(join(straight, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
  assert.ok(metrics.every((m) => Number.isFinite(m.val_macro_f1_live) && Number.isFinite(m.val_acc_live)));
  // last.safetensors is the average at the last epoch, not the trained weights.
  const last = tensorsOf(join(straight, 'last.safetensors'));
  const average = tensorsOf(join(straight, 'checkpoint', 'ema.safetensors'));
  const live = tensorsOf(join(straight, 'checkpoint', 'weights.safetensors'));
  assert.deepEqual(last.get('head.weight'), average.get('head.weight'));
  assert.notDeepEqual(last.get('head.weight'), live.get('head.weight'));

  const split = join(root, 'split');
  assert.equal(aplnet(trainArgs(data, split, root, '--epochs', '1', ...levers)).status, 0);
  const resumed = aplnet(trainArgs(data, split, root, '--resume', '--epochs', '2'));
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.deepEqual(tensorsOf(join(split, 'last.safetensors')), last, 'resumed = straight, average included');
  assert.deepEqual(tensorsOf(join(split, 'checkpoint', 'weights.safetensors')), live);
});

test('--keep last makes the end of the schedule the model, whatever validation macro-F1 says; it needs --patience 0', () => {
  assert.throws(() => parseTrainingConfig({ data: 'x', keep: 'last', patience: 8 }), /--keep last trains the whole schedule, so it needs --patience 0 \(got 8\)/);
  assert.equal(TRAINING_DEFAULTS.keep, 'best');
  const data = tinyDataset(root, 6);
  const out = join(root, 'keep-last');
  const trained = aplnet(trainArgs(data, out, root, '--epochs', '3', '--size', '48', '--keep', 'last', '--patience', '0'));
  assert.equal(trained.status, 0, trained.stderr);
  assert.match(trained.stderr, /kept the last epoch, 3 \(validation macro-F1 [\d.]+\); run saved/);
  assert.doesNotMatch(trained.stderr, /belong to the patients/, 'labels that are cell types: no note');
  assert.deepEqual(tensorsOf(join(out, 'model.safetensors')), tensorsOf(join(out, 'last.safetensors')));
  assert.equal(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).training.keep, 'last');
});

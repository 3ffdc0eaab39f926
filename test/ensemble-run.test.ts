// An ensemble of folds (train --folds) loaded as one run: members checked end to end and against each
// other, predictions the mean of the members' calibrated probabilities, evaluation refused on
// images a member learned from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setNumThreads } from '../src/torch/index.js';
import { disposeRun, evaluateRun, loadRun, predictImages, type ImagePrediction } from '../src/run/index.js';
import { aplnet, tinyDataset, trainArgs } from './helpers/tiny-run.js';

setNumThreads(1);

const root = mkdtempSync(join(tmpdir(), 'aplnet-ensemble-'));
const data = tinyDataset(root, 6);
const ensemble = join(root, 'ensemble');
const trained = aplnet(trainArgs(data, ensemble, root, '--folds', '2', '--epochs', '1'));
if (trained.status !== 0) throw new Error(`training the tiny ensemble failed:\n${trained.stderr}`);
const images = ['basophil', 'eosinophil', 'lymphocyte'].map((name) => join(data, name, readdirSync(join(data, name)).sort()[0]));

test.after(() => rmSync(root, { recursive: true, force: true }));

test('a folds folder loads as one run whose probabilities are the mean of its members’ calibrated probabilities', async () => {
  const run = await loadRun(ensemble);
  const members = await Promise.all([0, 1].map((fold) => loadRun(join(ensemble, `fold-${fold}`))));
  try {
    assert.equal(run.members?.length, 2);
    assert.deepEqual(run.classNames, members[0].classNames);
    assert.equal(run.calibration?.temperature, 1);
    assert.equal(run.calibration?.tta, members[0].calibration?.tta);
    const ensembleAnswers = (await predictImages(run, images, { embeddings: true })) as ImagePrediction[];
    const memberAnswers = await Promise.all(members.map(async (member) => (await predictImages(member, images, { embeddings: true })) as ImagePrediction[]));
    ensembleAnswers.forEach((answer, i) => {
      assert.ok(answer.ok);
      for (const name of run.classNames) {
        const mean = (memberAnswers[0][i].probabilities[name] + memberAnswers[1][i].probabilities[name]) / 2;
        assert.ok(Math.abs(answer.probabilities[name] - mean) < 1e-5, `${name}: ${answer.probabilities[name]} vs mean ${mean}`);
      }
      // The embedding is the members' embeddings one after another.
      const [a, b] = memberAnswers.map((m) => m[i].embedding!);
      assert.equal(answer.embedding!.length, a.length + b.length);
      assert.ok(answer.embedding!.every((v, k) => Math.abs(v - (k < a.length ? a[k] : b[k - a.length])) < 1e-4));
    });
  } finally {
    disposeRun(run);
    members.forEach(disposeRun);
  }
});

test('a damaged member is refused by name', async () => {
  const copy = join(root, 'damaged');
  cpSync(ensemble, copy, { recursive: true });
  const weights = join(copy, 'fold-1', 'model.safetensors');
  const bytes = readFileSync(weights);
  bytes[bytes.length - 5] ^= 0xff;
  writeFileSync(weights, bytes);
  await assert.rejects(loadRun(copy), (err: Error) => err.message.includes(join(copy, 'fold-1')) && /member/.test(err.message));
});

test('members that disagree on the classes are refused', async () => {
  const other = join(root, 'two-classes');
  const otherData = tinyDataset(join(root, 'other-data'), 6, ['basophil', 'eosinophil']);
  const result = aplnet(trainArgs(otherData, other, root, '--folds', '2', '--epochs', '1'));
  assert.equal(result.status, 0, result.stderr);
  const mixed = join(root, 'mixed');
  cpSync(ensemble, mixed, { recursive: true });
  rmSync(join(mixed, 'fold-1'), { recursive: true });
  cpSync(join(other, 'fold-1'), join(mixed, 'fold-1'), { recursive: true });
  await assert.rejects(loadRun(mixed), /fold-1 differs from .*fold-0 in its classes/);
});

test('a missing fold is named', async () => {
  const gap = join(root, 'gap');
  cpSync(ensemble, gap, { recursive: true });
  cpSync(join(gap, 'fold-1'), join(gap, 'fold-2'), { recursive: true });
  rmSync(join(gap, 'fold-1'), { recursive: true });
  await assert.rejects(loadRun(gap), /fold-1 is missing/);
});

test('evaluate refuses an ensemble with no held-out images, and images a member learned from', async () => {
  const run = await loadRun(ensemble, { calibration: 'optional' });
  try {
    await assert.rejects(evaluateRun(run, 'cpu', { log: () => {} }), /no held-out test split/);
    // The same images under another folder name are still the images the members learned from.
    const renamed = join(root, 'renamed');
    cpSync(data, renamed, { recursive: true });
    await assert.rejects(evaluateRun(run, 'cpu', { data: renamed, log: () => {} }), /were used to train or validate the members/);
  } finally {
    disposeRun(run);
  }
});

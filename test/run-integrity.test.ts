// Defect 4 of issue 9: a corrupt or edited run folder must be refused by name, never answer with
// confidence. Each test damages a private copy of a real (tiny) run the way a disk, an editor or a
// careless copy would, then asks the one prediction core for an answer.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { evaluateRun, loadRun, predictImages, runPath, type LoadedRun } from '../src/run/index.js';
import { noGrad } from '../src/torch/index.js';
import { aplnet, copyRun, trainTinyRunSync, TINY_CLASSES } from './helpers/tiny-run.js';

let root: string;
let run: string;
let data: string;
let image: string;

/** Damages the model in memory, after loadRun's checks: its last parameter becomes NaN. */
function poisonLastParameter(model: LoadedRun['model']): void {
  const [, last] = model.namedParameters().at(-1)!;
  noGrad(() => {
    const poisoned = last.mul(Number.NaN);
    last.copy_(poisoned);
    poisoned.dispose();
  });
}

before(() => {
  ({ root, run, data } = trainTinyRunSync());
  image = join(data, TINY_CLASSES[0], readdirSync(join(data, TINY_CLASSES[0])).sort()[0]);
});
after(() => rmSync(root, { recursive: true, force: true }));

test('an intact run loads and predicts with finite, calibrated probabilities', async () => {
  const loaded = await loadRun(run);
  try {
    const [result] = await predictImages(loaded, [image], { maps: ['attention-grad'] });
    assert.ok(result.ok, JSON.stringify(result));
    const probabilities = Object.values(result.probabilities);
    assert.ok(probabilities.every(Number.isFinite));
    assert.ok(Math.abs(probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-5);
    assert.deepEqual(Object.keys(result.probabilities), TINY_CLASSES);
    assert.ok(result.maps['attention-grad']);
  } finally {
    loaded.model.dispose();
  }
});

test('a flipped byte in the weights is refused by the checksum, naming the file', async () => {
  const copy = copyRun(run, root, 'flipped');
  const path = runPath(copy, 'bestWeights');
  const bytes = readFileSync(path);
  bytes[bytes.length - 100] ^= 0x40;
  writeFileSync(path, bytes);
  await assert.rejects(loadRun(copy), (err: Error) => err.message.includes(path) && /checksum/i.test(err.message));
});

test('NaN weights with a valid checksum are refused (the safety net does not fail open)', async () => {
  const copy = copyRun(run, root, 'nan');
  const loaded = await loadRun(copy);
  const metadata = loaded.model.load(runPath(copy, 'bestWeights'));
  const [name, weight] = loaded.model.namedParameters()[0];
  noGrad(() => {
    const poisoned = weight.mul(Number.NaN);
    weight.copy_(poisoned);
    poisoned.dispose();
  });
  loaded.model.save(runPath(copy, 'bestWeights'), metadata);
  loaded.model.dispose();
  await assert.rejects(loadRun(copy), (err: Error) => err.message.includes(name) && /NaN/.test(err.message));
});

test('a model whose output is NaN (weights damaged in memory, after the load checks) gives a failure, never a call', async () => {
  const loaded = await loadRun(run);
  try {
    poisonLastParameter(loaded.model);
    const [result] = await predictImages(loaded, [image]);
    assert.equal(result.ok, false);
    if (!result.ok) {
      assert.equal(result.reason, 'non-finite-output');
      assert.match(result.message, /refer/);
    }
  } finally {
    loaded.model.dispose();
  }
});

test('a temperature out of range (-1) is refused, not applied', async () => {
  const copy = copyRun(run, root, 'temperature');
  const path = runPath(copy, 'calibration');
  writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), temperature: -1 }));
  await assert.rejects(loadRun(copy), (err: Error) => err.message.includes(path) && /temperature/.test(err.message));
});

test('a referral threshold of NaN (null in JSON) or above 1 is refused', async () => {
  for (const value of [null, 1.5, 'high']) {
    const copy = copyRun(run, root, `threshold-${String(value)}`);
    const path = runPath(copy, 'calibration');
    writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), referralThreshold: value }));
    await assert.rejects(loadRun(copy), (err: Error) => err.message.includes(path), `referralThreshold ${String(value)}`);
  }
});

test('swapped names in classes.json are refused instead of relabelling', async () => {
  const copy = copyRun(run, root, 'classes');
  const path = runPath(copy, 'classes');
  const names = JSON.parse(readFileSync(path, 'utf8')) as string[];
  writeFileSync(path, JSON.stringify([names[1], names[0], ...names.slice(2)]));
  await assert.rejects(loadRun(copy), (err: Error) => err.message.includes(path) && /class/.test(err.message));
});

test('an edited preprocessing.json is refused', async () => {
  const copy = copyRun(run, root, 'preprocessing');
  const path = runPath(copy, 'preprocessing');
  writeFileSync(path, readFileSync(path, 'utf8').replace(/\n$/, ' \n'));
  await assert.rejects(loadRun(copy), (err: Error) => err.message.includes(path));
});

test('a calibration fitted for other weights is refused by predict and refitted by evaluate', async () => {
  const copy = copyRun(run, root, 'stale-calibration');
  const path = runPath(copy, 'calibration');
  writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), weightsSha256: '0'.repeat(64) }));
  await assert.rejects(loadRun(copy), (err: Error) => err.message.includes(path) && /other weights/.test(err.message));
  const evaluated = aplnet(['evaluate', copy, '--threads', '1', '--workers', '0', '--gallery', '0']);
  assert.equal(evaluated.status, 0, evaluated.stderr);
  const loaded = await loadRun(copy);
  loaded.model.dispose();
});

test('predict without calibration.json refuses and says how to get one', () => {
  const copy = copyRun(run, root, 'no-calibration');
  rmSync(runPath(copy, 'calibration'));
  const result = aplnet(['predict', copy, image]);
  assert.equal(result.status, 1);
  assert.match(result.stderr, /calibration\.json is missing/);
  assert.match(result.stderr, /--resume|evaluate/);
});

test('evaluate and predict give the same calibrated probabilities for the same images (one answer)', async () => {
  const loaded = await loadRun(copyRun(run, root, 'one-answer'), { calibration: 'optional' });
  try {
    const evaluation = await evaluateRun(loaded, 'cpu', { workers: 0, cacheDir: join(root, 'cache'), log: () => {} });
    const predictions = await predictImages(loaded, evaluation.images.paths);
    assert.ok(evaluation.images.paths.length > 0);
    predictions.forEach((prediction, i) => {
      assert.ok(prediction.ok);
      if (!prediction.ok) return;
      const fromEvaluate = Array.from(evaluation.images.calibratedProbs[i]);
      const fromPredict = TINY_CLASSES.map((name) => prediction.probabilities[name]);
      fromEvaluate.forEach((p, k) => assert.ok(Math.abs(p - fromPredict[k]) < 1e-4, `${prediction.file}: evaluate ${p} vs predict ${fromPredict[k]}`));
    });
  } finally {
    loaded.model.dispose();
  }
});

test('evaluate refuses to compute metrics over a NaN output', async () => {
  const loaded = await loadRun(copyRun(run, root, 'nan-evaluate'), { calibration: 'optional' });
  try {
    poisonLastParameter(loaded.model);
    await assert.rejects(evaluateRun(loaded, 'cpu', { workers: 0, cacheDir: join(root, 'cache'), log: () => {} }), /not a number \(NaN or Inf\).*no metrics/);
  } finally {
    loaded.model.dispose();
  }
});

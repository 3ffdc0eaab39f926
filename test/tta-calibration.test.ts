// The temperature calibrates one output: one view, or the mean of the eight dihedral views. The run
// records which, predicts in that mode, refuses the other until refitted, and evaluate refits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setNumThreads } from '../src/torch/index.js';
import { calibratedTtaMode, disposeRun, evaluateRun, loadRun, predictImages, type ImagePrediction } from '../src/run/index.js';
import { DEFAULT_TTA, runPath } from '../src/train/index.js';
import { copyRun, trainTinyRunSync } from './helpers/tiny-run.js';

setNumThreads(1);

const { root, data, run } = trainTinyRunSync();
const image = join(data, 'basophil', readdirSync(join(data, 'basophil')).sort()[0]);
test.after(() => rmSync(root, { recursive: true, force: true }));

const calibrationOf = (dir: string) => JSON.parse(readFileSync(runPath(dir, 'calibration'), 'utf8'));

test('training calibrates for the default mode, records it, and predict uses it and refuses the other', async () => {
  assert.equal(calibrationOf(run).tta, DEFAULT_TTA);
  const loaded = await loadRun(run);
  try {
    const other = DEFAULT_TTA === 'on' ? 'off' : 'on';
    const [answer] = (await predictImages(loaded, [image], { tta: DEFAULT_TTA })) as ImagePrediction[];
    assert.ok(answer.ok);
    await assert.rejects(predictImages(loaded, [image], { tta: other }), new RegExp(`calibrated for test-time augmentation ${DEFAULT_TTA}.*evaluate .* --tta ${other}`));
  } finally {
    disposeRun(loaded);
  }
});

test('evaluate --tta refits the temperature for the mode asked, which becomes the run’s default', async () => {
  const copy = copyRun(run, root, 'refit');
  const loaded = await loadRun(copy, { calibration: 'optional' });
  try {
    const evaluation = await evaluateRun(loaded, 'cpu', { tta: 'off', log: () => {} });
    const saved = calibrationOf(copy);
    assert.equal(saved.tta, 'off');
    assert.equal(saved.temperature, evaluation.calibrated.temperature);
    const onAgain = await evaluateRun(loaded, 'cpu', { tta: 'on', log: () => {} });
    assert.equal(calibrationOf(copy).tta, 'on');
    assert.equal(calibrationOf(copy).temperature, onAgain.calibrated.temperature);
  } finally {
    disposeRun(loaded);
  }
});

test('a calibration.json from before TTA (no "tta" field) was fitted for one view', async () => {
  const copy = copyRun(run, root, 'old-calibration');
  const { tta: _dropped, ...old } = calibrationOf(copy);
  writeFileSync(runPath(copy, 'calibration'), JSON.stringify(old));
  const loaded = await loadRun(copy, { calibration: 'optional' });
  try {
    assert.equal(loaded.calibration?.tta, 'off');
    assert.equal(calibratedTtaMode(loaded), 'off');
    assert.throws(() => calibratedTtaMode(loaded, 'on'), /calibrated for test-time augmentation off/);
  } finally {
    disposeRun(loaded);
  }
});

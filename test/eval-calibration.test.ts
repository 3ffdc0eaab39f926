import { test } from 'node:test';
import assert from 'node:assert/strict';
import { calibrationBinCount, expectedCalibrationError, shouldReferToSpecialist, summarizeReferral } from '../src/eval/index.js';

const close = (actual: number, expected: number, tolerance = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not within ${tolerance} of ${expected}`);

const labels = [0, 0, 1, 1, 2, 2];
const probs = [
  [0.7, 0.2, 0.1], // confidence .7, right
  [0.3, 0.6, 0.1], // .6, wrong
  [0.1, 0.8, 0.1], // .8, right
  [0.2, 0.5, 0.3], // .5, right
  [0.1, 0.2, 0.7], // .7, right
  [0.5, 0.1, 0.4], // .5, wrong
];

test('ECE with 15 bins matches hand arithmetic, boundaries included', () => {
  // Bins are (b/15, (b+1)/15]. 0.5 -> bin 7 (.467, .533]; 0.6 = 9/15 -> bin 8 (upper edge
  // is inclusive); 0.7 -> bin 10 (.667, .733]; 0.8 = 12/15 -> bin 11.
  // bin 7: {.5 right, .5 wrong}  acc .5, conf .5, gap 0
  // bin 8: {.6 wrong}            acc 0,  conf .6, gap .6, weight 1/6 -> .1
  // bin 10: {.7 right, .7 right} acc 1,  conf .7, gap .3, weight 2/6 -> .1
  // bin 11: {.8 right}           acc 1,  conf .8, gap .2, weight 1/6 -> .0333
  // ECE = .2333..., MCE = .6
  const report = expectedCalibrationError(probs, labels, 15);
  assert.equal(report.bins.length, 15);
  close(report.expectedCalibrationError, 0.1 + 0.1 + 0.2 / 6);
  close(report.maximumCalibrationError, 0.6);
  const filled = report.bins.flatMap((bin, b) => (bin.count > 0 ? [[b, bin.count, bin.accuracy, bin.meanConfidence]] : []));
  assert.deepEqual(filled, [
    [7, 2, 0.5, 0.5],
    [8, 1, 0, 0.6],
    [10, 2, 1, 0.7],
    [11, 1, 1, 0.8],
  ]);
  assert.equal(report.bins[0].accuracy, null);
  close(report.bins[14].upper, 1);
});

test('the number of bins follows the sample size: floor(n / 10) within 2..15, and is the default', () => {
  assert.deepEqual([1, 6, 20, 32, 99, 150, 10_000].map(calibrationBinCount), [2, 2, 2, 3, 9, 15, 15]);
  // Six images -> 2 bins, (0, .5] and (.5, 1]: {.5 right, .5 wrong} gap 0; {.7 R, .6 W, .8 R, .7 R}
  // accuracy .75, confidence .7, gap .05, weight 4/6 -> ECE .0333.
  const report = expectedCalibrationError(probs, labels);
  assert.equal(report.bins.length, 2);
  close(report.expectedCalibrationError, 0.05 * 4 / 6);
});

test('a perfectly calibrated set has ECE 0', () => {
  // Two images at confidence .5 in one bin, one right and one wrong: acc .5 = conf .5.
  const report = expectedCalibrationError([[0.5, 0.5], [0.5, 0.5]], [0, 1]);
  close(report.expectedCalibrationError, 0);
});

test('refer-to-specialist flags a top probability strictly below the threshold', () => {
  assert.equal(shouldReferToSpecialist([0.55, 0.45], 0.6), true);
  assert.equal(shouldReferToSpecialist([0.4, 0.6], 0.6), false);
  // Threshold .6: confidences .5 and .5 are referred; .6 is kept. Kept: .7 right, .6 wrong,
  // .8 right, .7 right -> accuracy 3/4 on 4 of 6 images.
  assert.deepEqual(summarizeReferral(probs, labels, 0.6), { threshold: 0.6, referred: 2, coverage: 4 / 6, accuracyOnKept: 0.75 });
  assert.throws(() => summarizeReferral(probs, labels, 1.5), /must be a probability/);
});

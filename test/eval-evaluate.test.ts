import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregateByPatient, evaluateClassifier, evaluateWithTemperatureScaling, labelsBelongToPatients } from '../src/eval/index.js';
import { close, labels, probs } from './helpers/six-images.js';

const patientIds = ['A', 'A', 'B', 'B', 'C', 'C'];

test('patient aggregation averages each patient’s image probabilities', () => {
  const pooled = aggregateByPatient(probs, labels, patientIds);
  assert.deepEqual(pooled.patientIds, ['A', 'B', 'C']);
  assert.deepEqual(pooled.labels, [0, 1, 2]);
  assert.deepEqual(pooled.imagesPerPatient, [2, 2, 2]);
  // A: ([.7,.2,.1] + [.3,.6,.1]) / 2 = [.5, .4, .1]; B: [.15, .65, .2]; C: [.3, .15, .55].
  const expected = [[0.5, 0.4, 0.1], [0.15, 0.65, 0.2], [0.3, 0.15, 0.55]];
  pooled.probs.forEach((row, p) => row.forEach((v, k) => close(v, expected[p][k], 1e-12)));
});

test('a patient with images of two classes is an error that names the patient', () => {
  assert.throws(() => aggregateByPatient(probs, labels, ['A', 'B', 'B', 'C', 'C', 'C']), /patient "B" has images labelled 0 and 1/);
});

test('evaluateClassifier reports image and patient metrics and survives JSON', () => {
  const report = evaluateClassifier({ probs, labels, classNames: ['a', 'b', 'c'], patientIds, referralThreshold: 0.6 });
  close(report.images.accuracy, 4 / 6);
  close(report.images.macroF1, 0.655556);
  // Six images get 2 calibration bins (see eval-calibration): ECE .05 · 4/6.
  close(report.images.calibration.expectedCalibrationError, 0.033333);
  assert.equal(report.images.referral?.referred, 2);
  assert.ok(report.patients);
  // Every patient's mean probability peaks on its own class -> accuracy 1.
  assert.equal(report.patients.accuracy, 1);
  assert.equal(report.patients.count, 3);
  // −(ln .5 + ln .65 + ln .55)/3 = (0.693147 + 0.430783 + 0.597837)/3
  close(report.patients.negativeLogLikelihood, 0.573922);
  assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
});

test('cell-type labels with patient ids (many classes per patient): image metrics, no patient metrics, no error', () => {
  // A lab's usual data: each patient contributes cells of several classes, so there is no patient call.
  const mixed = ['A', 'B', 'B', 'C', 'C', 'C'];
  assert.equal(labelsBelongToPatients(labels, mixed), false);
  assert.equal(labelsBelongToPatients(labels, patientIds), true);
  const report = evaluateClassifier({ probs, labels, classNames: ['a', 'b', 'c'], patientIds: mixed });
  close(report.images.accuracy, 4 / 6);
  assert.equal(report.patients, null);
});

test('evaluateClassifier accepts logits and a temperature', () => {
  const logits = probs.map((row) => row.map(Math.log));
  const report = evaluateClassifier({ logits, labels, classNames: ['a', 'b', 'c'] });
  // Same probabilities as eval-classification's NLL case: 3.749905 / 6.
  close(report.images.negativeLogLikelihood, 0.624984);
  assert.equal(report.patients, null);
  const cooler = evaluateClassifier({ logits, labels, classNames: ['a', 'b', 'c'], temperature: 2 });
  assert.equal(cooler.temperature, 2);
  assert.equal(cooler.images.accuracy, report.images.accuracy);
});

test('inputs that do not fit together are rejected with both sizes', () => {
  assert.throws(() => evaluateClassifier({ probs, labels: [0, 1], classNames: ['a', 'b', 'c'] }), /6 rows but labels has 2/);
  assert.throws(() => evaluateClassifier({ probs, labels, classNames: ['a', 'b'] }), /3 class scores but 2 class names/);
  assert.throws(() => evaluateClassifier({ probs: [[2, -1]], labels: [0], classNames: ['a', 'b'] }), /outside \[0, 1\]; pass logits/);
  assert.throws(() => evaluateClassifier({ probs: [[0.5, 0.5]], labels: [2], classNames: ['a', 'b'] }), /labels\[0\] = 2 is not a class index/);
});

test('evaluateWithTemperatureScaling fits on validation and changes only the confidences', () => {
  const validation = { logits: [[3, 0], [3, 0], [3, 0], [3, 0], [0, 3]], labels: [0, 0, 0, 1, 1] };
  const test = { logits: [[2, 0], [0, 2], [2, 0]], labels: [0, 1, 1] };
  const result = evaluateWithTemperatureScaling({ validation, test, classNames: ['x', 'y'] });
  assert.ok(result.temperatureFit.temperature > 1, 'an over-confident validation set should be cooled');
  assert.equal(result.uncalibrated.temperature, 1);
  assert.equal(result.calibrated.temperature, result.temperatureFit.temperature);
  assert.equal(result.calibrated.images.accuracy, result.uncalibrated.images.accuracy);
});

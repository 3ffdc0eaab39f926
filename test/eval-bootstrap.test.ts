import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapIntervals, calibrationBinCount, evaluateClassifier, rocCurve, softmaxRows } from '../src/eval/index.js';
import { prepareBootstrap, resampleMetrics } from '../src/eval/bootstrap.js';
import { rankScores, weightedAuc } from '../src/eval/weighted-auc.js';
import { mulberry32 } from '../src/data/prng.js';
import { close } from './helpers/six-images.js';

/** Deep equality with numbers compared to 1e-12 (sums in another order round differently). */
function assertNear(actual: unknown, expected: unknown, path = ''): void {
  if (typeof expected === 'number' && typeof actual === 'number') return close(actual, expected, 1e-12);
  if (expected === null || typeof expected !== 'object') return assert.equal(actual, expected, path);
  assert.deepEqual(Object.keys(actual as object), Object.keys(expected), path);
  for (const key of Object.keys(expected)) assertNear((actual as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key], `${path}.${key}`);
}

/** n images over k classes, right about 85% of the time, with scores rounded so that ties occur. */
function sample(n: number, k: number, seed: number) {
  const random = mulberry32(seed);
  const labels = Array.from({ length: n }, () => Math.floor(random() * k));
  const logits = labels.map((y) => Array.from({ length: k }, (_, c) => Math.round((c === y ? 2.5 : 0) + 2 * random() * 4) / 4));
  return { labels, probs: softmaxRows(logits), classNames: Array.from({ length: k }, (_, c) => `class${c}`) };
}

test('at weight one per image the resample metrics are the point estimates', () => {
  const { labels, probs, classNames } = sample(300, 5, 1);
  const report = evaluateClassifier({ probs, labels, classNames, bootstrap: false });
  const metrics = resampleMetrics(prepareBootstrap(probs, labels, classNames, calibrationBinCount(300)), new Float64Array(300).fill(1));
  close(metrics.accuracy, report.images.accuracy, 1e-12);
  close(metrics.balancedAccuracy, report.images.balancedAccuracy, 1e-12);
  close(metrics.macroF1, report.images.macroF1, 1e-12);
  close(metrics.macroAuc!, report.images.roc.macroAuc!, 1e-12);
  close(metrics.expectedCalibrationError, report.images.calibration.expectedCalibrationError, 1e-12);
  report.images.perClass.forEach((m, c) => {
    close(metrics.recall[c], m.recall, 1e-12);
    close(metrics.f1[c], m.f1, 1e-12);
  });
  assert.equal(report.images.intervals, null);
});

test('weighted ROC-AUC equals the AUC of the sample with each image repeated weight times, ties included', () => {
  const random = mulberry32(4);
  const scores = Array.from({ length: 60 }, () => Math.round(random() * 8) / 8);
  const positive = scores.map((s) => random() < s);
  const weights = scores.map(() => Math.floor(random() * 3));
  const repeated = weights.flatMap((w, i) => new Array<number>(w).fill(i));
  const expected = rocCurve(repeated.map((i) => scores[i]), repeated.map((i) => positive[i])).auc!;
  close(weightedAuc(rankScores(scores, positive), weights)!, expected, 1e-12);
  assert.equal(weightedAuc(rankScores([0.2, 0.4], [true, true]), [1, 1]), null);
});

test('intervals are seeded (same seed, same bounds), hold the estimate and have the binomial width', () => {
  const { labels, probs, classNames } = sample(400, 4, 2);
  const options = { bins: calibrationBinCount(400) };
  const a = bootstrapIntervals(probs, labels, classNames, options);
  assert.deepEqual(bootstrapIntervals(probs, labels, classNames, options), a);
  assert.notDeepEqual(bootstrapIntervals(probs, labels, classNames, { ...options, seed: 1 }).accuracy, a.accuracy);
  const report = evaluateClassifier({ probs, labels, classNames });
  assert.deepEqual(report.images.intervals, a);
  assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
  const m = report.images;
  for (const [name, value, interval] of [['accuracy', m.accuracy, a.accuracy], ['macro-F1', m.macroF1, a.macroF1], ['AUC', m.roc.macroAuc!, a.macroAuc!], ['ECE', m.calibration.expectedCalibrationError, a.expectedCalibrationError]] as const) {
    assert.ok(interval.low <= value && value <= interval.high, `${name} ${value} outside [${interval.low}, ${interval.high}]`);
  }
  // A proportion p on n images: the 95% interval is about ±1.96·√(p(1−p)/n) wide.
  const expected = 2 * 1.96 * Math.sqrt((m.accuracy * (1 - m.accuracy)) / 400);
  const width = a.accuracy.high - a.accuracy.low;
  assert.ok(Math.abs(width - expected) < 0.25 * expected, `accuracy interval ${width} vs binomial ${expected}`);
  assert.deepEqual([a.unit, a.units, a.resamples, a.level], ['image', 400, 1000, 0.95]);
});

test('by patient: a patient of k identical images weighs like one image, so the interval is that of the patients', () => {
  const { labels, probs, classNames } = sample(120, 3, 3);
  const copies = 4;
  const expand = <T>(rows: readonly T[]) => rows.flatMap((row) => new Array<T>(copies).fill(row));
  const patientIds = expand(labels.map((_, p) => `P${p}`));
  const byPatient = bootstrapIntervals(expand(probs), expand(labels), classNames, { bins: 12, groups: patientIds });
  const byImageOfPatients = bootstrapIntervals(probs, labels, classNames, { bins: 12 });
  assertNear({ ...byPatient, unit: 'image', units: 120 }, byImageOfPatients);
  assert.equal(byPatient.unit, 'patient');
  // Drawn image by image, the copies would pass for independent evidence: a much narrower interval.
  const naive = bootstrapIntervals(expand(probs), expand(labels), classNames, { bins: 12 });
  assert.ok(naive.accuracy.high - naive.accuracy.low < 0.7 * (byPatient.accuracy.high - byPatient.accuracy.low));
});

test('a class absent from the sample has no interval; fast enough for a few thousand images', () => {
  const { labels, probs } = sample(3000, 8, 5);
  const classNames = [...Array.from({ length: 8 }, (_, c) => `class${c}`), 'never-seen'];
  const wide = probs.map((row) => Float64Array.from([...row, 0]));
  const start = performance.now();
  const intervals = bootstrapIntervals(wide, labels, classNames, { bins: 15 });
  const ms = performance.now() - start;
  assert.equal(intervals.perClass[8].recall, null);
  assert.ok(intervals.perClass[0].recall!.low < intervals.perClass[0].recall!.high);
  assert.ok(ms < 2000, `1,000 resamples of 3,000 images took ${ms.toFixed(0)} ms`);
  console.log(`bootstrap: 3,000 images, 9 classes, 1,000 resamples in ${ms.toFixed(0)} ms`);
});

test('bad bootstrap settings are refused with the value', () => {
  const { labels, probs, classNames } = sample(10, 2, 6);
  assert.throws(() => bootstrapIntervals(probs, labels, classNames, { bins: 2, resamples: 0 }), /resamples must be a positive integer, got 0/);
  assert.throws(() => bootstrapIntervals(probs, labels, classNames, { bins: 2, level: 95 }), /level must be in \(0, 1\), got 95/);
  assert.throws(() => bootstrapIntervals(probs, labels, classNames, { bins: 2, groups: ['a'] }), /1 patient ids for 10 images/);
});

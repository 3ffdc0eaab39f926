// The out-of-distribution score's parts against values worked out by hand (or by numpy following
// scikit-learn's Ledoit–Wolf code), and the threshold fitted on hand-made scores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  energyScore,
  fitClassGaussians,
  fitOodThreshold,
  flaggedShare,
  invertPositiveDefinite,
  isOutOfDistribution,
  ledoitWolfCovariance,
  maxSoftmaxScore,
  nearestClassMahalanobis,
  oodAuroc,
  quadraticForm,
} from '../src/eval/index.js';
import { close } from './helpers/six-images.js';

test('the threshold flags exactly the stated share of hand-made in-distribution scores', () => {
  const scores = Array.from({ length: 100 }, (_, i) => i + 1); // 1 … 100
  assert.equal(fitOodThreshold(scores, 0.02), 98);
  assert.equal(flaggedShare(scores, 98), 0.02);
  assert.equal(fitOodThreshold(scores, 0.1), 90);
  assert.equal(flaggedShare(scores, fitOodThreshold(scores, 0.1)), 0.1);
  // Zero share: the largest score, nothing flagged.
  assert.equal(fitOodThreshold(scores, 0), 100);
  // Fewer scores than 1/share: floor(0.02 · 20) = 0 flagged; the order of the input does not matter.
  const twenty = Array.from({ length: 20 }, (_, i) => (i * 7) % 20);
  assert.equal(fitOodThreshold(twenty, 0.02), 19);
  assert.equal(flaggedShare(twenty, 19), 0);
  // Ties at the threshold stay unflagged: the share can only fall.
  assert.equal(flaggedShare([1, 2, 5, 5, 5], fitOodThreshold([1, 2, 5, 5, 5], 0.2)), 0);
});

test('the threshold refuses what it cannot fit on, and a NaN score is always flagged', () => {
  assert.throws(() => fitOodThreshold([], 0.02), /no in-distribution scores/);
  assert.throws(() => fitOodThreshold([1, 2], 1), /share/);
  assert.throws(() => fitOodThreshold([1, Number.NaN], 0.02), /not a finite number/);
  assert.equal(isOutOfDistribution(Number.NaN, 10), true);
  assert.equal(isOutOfDistribution(10, 10), false);
  assert.equal(isOutOfDistribution(10.5, 10), true);
});

test('Mahalanobis to the nearest class on a hand-computed example', () => {
  // Class 0 at (0,0),(4,0),(0,2),(4,2): mean (2,1), residuals (±2, ±1) → covariance diag(4, 1).
  // Class 1 the same pattern shifted by (20, 20).
  const points = [[0, 0], [4, 0], [0, 2], [4, 2], [20, 20], [24, 20], [20, 22], [24, 22]];
  const labels = [0, 0, 0, 0, 1, 1, 1, 1];
  const gaussians = fitClassGaussians(points.flat(), labels, 2, 2, { shrinkage: 0 });
  assert.deepEqual(gaussians.means.map((m) => [...m]), [[2, 1], [22, 21]]);
  close(gaussians.precision.values[0], 0.25);
  close(gaussians.precision.values[3], 1);
  close(gaussians.precision.values[1], 0);
  close(nearestClassMahalanobis(gaussians, [6, 1]), 4); // 4² / 4
  close(nearestClassMahalanobis(gaussians, [2, 3]), 4); // 2² / 1
  close(nearestClassMahalanobis(gaussians, [22, 23]), 4); // nearest is class 1
  // Shrinkage 0.5 towards (tr/2)·I = 2.5·I: diag(3.25, 1.75).
  const shrunk = fitClassGaussians(points.flat(), labels, 2, 2, { shrinkage: 0.5 });
  close(nearestClassMahalanobis(shrunk, [6, 1]), 16 / 3.25);
  close(nearestClassMahalanobis(shrunk, [2, 3]), 4 / 1.75);
});

test('a degenerate fit (every training image alike) stays usable and flags whatever differs', () => {
  const same = fitClassGaussians(Float64Array.from([1, 2, 1, 2, 1, 2]), [0, 0, 0], 2, 1);
  close(nearestClassMahalanobis(same, [1, 2]), 0);
  assert.ok(nearestClassMahalanobis(same, [1.01, 2]) > 1e3);
});

test('the inverse of a correlated matrix and its quadratic form', () => {
  const inverse = invertPositiveDefinite({ n: 2, values: Float64Array.from([2, 1, 1, 2]) });
  [2 / 3, -1 / 3, -1 / 3, 2 / 3].forEach((v, i) => close(inverse.values[i], v));
  close(quadraticForm([1, 1], [0, 0], inverse), 2 / 3);
  assert.throws(() => invertPositiveDefinite({ n: 2, values: Float64Array.from([1, 2, 2, 1]) }), /not positive definite/);
});

test('Ledoit–Wolf shrinkage matches scikit-learn\'s formula (numpy reference)', () => {
  const rows = Array.from({ length: 12 }, (_, r) => {
    const a = Math.sin(r * 1.3);
    const b = Math.cos(r * 0.7);
    return [a, a * 0.8 + 0.2 * b, b, 0.5 * a - 0.5 * b];
  });
  const mean = [0, 1, 2, 3].map((j) => rows.reduce((s, row) => s + row[j], 0) / rows.length);
  const centred = Float64Array.from(rows.flatMap((row) => row.map((v, j) => v - mean[j])));
  const { covariance, shrinkage } = ledoitWolfCovariance(centred, 12, 4);
  close(shrinkage, 0.2506733415127341, 1e-12);
  [0.46380186979214555, 0.2965283888098829, 0.014650839443194202, 0.1761734683541805].forEach((v, j) => close(covariance.values[j], v, 1e-12));
  close(covariance.values[1 * 4 + 3], 0.10624106624462233, 1e-12);
  close(covariance.values[3 * 4 + 3], 0.2716350989144858, 1e-12);
  // Fewer images than dimensions: the sample covariance is singular, the shrunk one is invertible.
  const few = fitClassGaussians(Float64Array.from(rows.slice(0, 3).flat()), [0, 0, 0], 4, 1);
  assert.ok(few.shrinkage > 0);
  assert.ok(Number.isFinite(nearestClassMahalanobis(few, [0, 0, 0, 0])));
});

test('energy and max-softmax scores are larger for flat logits than for a confident one', () => {
  close(energyScore([0, 0]), -Math.log(2));
  close(energyScore([2, 0], 2), -2 * Math.log(Math.exp(1) + 1));
  close(maxSoftmaxScore([0, 0, 0]), 2 / 3);
  assert.ok(energyScore([1, 1, 1]) > energyScore([9, 0, 0]));
  assert.ok(maxSoftmaxScore([1, 1, 1]) > maxSoftmaxScore([9, 0, 0]));
});

test('OOD AUROC: 1 when every OOD score is above every in-distribution one, 0.5 for ties', () => {
  assert.equal(oodAuroc([1, 2, 3], [4, 5]), 1);
  assert.equal(oodAuroc([4, 5], [1, 2, 3]), 0);
  assert.equal(oodAuroc([1, 1], [1, 1]), 0.5);
  close(oodAuroc([1, 3], [2, 4]), 0.75);
});

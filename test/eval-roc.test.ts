import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rocAucOneVsRest, rocCurve } from '../src/eval/index.js';
import { mulberry32 } from '../src/data/prng.js';
import { labels, probs } from './helpers/six-images.js';

/** AUC as the probability that a random positive outscores a random negative, ties counting 1/2. */
function pairCountingAuc(scores: number[], isPositive: boolean[]): number {
  let credit = 0;
  let pairs = 0;
  scores.forEach((sp, i) => {
    if (!isPositive[i]) return;
    scores.forEach((sn, j) => {
      if (isPositive[j]) return;
      pairs++;
      credit += sp > sn ? 1 : sp === sn ? 0.5 : 0;
    });
  });
  return credit / pairs;
}

test('one-vs-rest AUC matches hand pair counting', () => {
  const roc = rocAucOneVsRest(probs, labels, ['a', 'b', 'c']);
  // a: positives score .7 and .3; negatives .1 .2 .1 .5. .7 beats all 4, .3 beats 3 -> 7/8.
  // b: positives .8 and .5; negatives .2 .6 .2 .1. .8 beats 4, .5 beats 3 -> 7/8.
  // c: positives .7 and .4; negatives .1 .1 .1 .3. Both beat all 4 -> 8/8.
  assert.deepEqual(roc.perClass.map((c) => c.auc), [0.875, 0.875, 1]);
  assert.equal(roc.macroAuc, (0.875 + 0.875 + 1) / 3);
});

test('a tie between a positive and a negative gets half credit and a diagonal segment', () => {
  // Positives .5 .5, negatives .5 .2: each positive ties one negative (1/2) and beats one (1)
  // -> (1.5 + 1.5) / 4 = 0.75.
  const curve = rocCurve([0.5, 0.5, 0.5, 0.2], [true, false, true, false]);
  assert.equal(curve.auc, 0.75);
  assert.deepEqual(
    curve.points.map((p) => [p.falsePositiveRate, p.truePositiveRate, p.threshold]),
    [[0, 0, null], [0.5, 1, 0.5], [1, 1, 0.2]],
  );
});

test('AUC equals brute-force pair counting on random scores with many ties', () => {
  const random = mulberry32(7);
  for (let trial = 0; trial < 50; trial++) {
    const n = 5 + Math.floor(random() * 60);
    // Rounding to one decimal makes ties frequent.
    const scores = Array.from({ length: n }, () => Math.round(random() * 10) / 10);
    const isPositive = scores.map((s) => random() < 0.3 + 0.4 * s);
    if (!isPositive.includes(true) || !isPositive.includes(false)) continue;
    const curve = rocCurve(scores, isPositive);
    assert.ok(Math.abs((curve.auc ?? NaN) - pairCountingAuc(scores, isPositive)) < 1e-12, `trial ${trial}`);
    const last = curve.points[curve.points.length - 1];
    assert.deepEqual([last.falsePositiveRate, last.truePositiveRate], [1, 1]);
  }
});

test('a class with no positive images has no AUC and is left out of the macro mean', () => {
  const roc = rocAucOneVsRest([[0.9, 0.1, 0], [0.2, 0.8, 0]], [0, 1], ['a', 'b', 'c']);
  assert.deepEqual(roc.perClass.map((c) => c.auc), [1, 1, null]);
  assert.equal(roc.macroAuc, 1);
});

test('a non-finite score is rejected with its index', () => {
  assert.throws(() => rocCurve([0.1, NaN], [true, false]), /score 1 is NaN/);
});

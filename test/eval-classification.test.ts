import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  accuracy,
  balancedAccuracy,
  brierScore,
  confusionMatrix,
  macroF1,
  negativeLogLikelihood,
  perClassMetrics,
  predictedClasses,
  rowsFromFlat,
  weightedF1,
} from '../src/eval/index.js';
import { close, labels, probs } from './helpers/six-images.js';

const names = ['a', 'b', 'c'];
test('confusion matrix puts truth in rows and predictions in columns', () => {
  assert.deepEqual(predictedClasses(probs), [0, 1, 1, 1, 2, 0]);
  assert.deepEqual(confusionMatrix(labels, predictedClasses(probs), 3), [
    [1, 1, 0],
    [0, 2, 0],
    [1, 0, 1],
  ]);
});

test('accuracy, per-class, balanced, macro and weighted F1 match hand arithmetic', () => {
  const matrix = confusionMatrix(labels, predictedClasses(probs), 3);
  // 4 of 6 on the diagonal.
  close(accuracy(matrix), 4 / 6);
  const perClass = perClassMetrics(matrix, names);
  // a: TP 1, predicted 2 (column 1+0+1), support 2 -> P 1/2, R 1/2, F1 1/2.
  // b: TP 2, predicted 3, support 2 -> P 2/3, R 1, F1 2·(2/3)·1/(5/3) = 0.8.
  // c: TP 1, predicted 1, support 2 -> P 1, R 1/2, F1 2·0.5/1.5 = 2/3.
  const expected = [
    { className: 'a', precision: 0.5, recall: 0.5, f1: 0.5, support: 2 },
    { className: 'b', precision: 2 / 3, recall: 1, f1: 0.8, support: 2 },
    { className: 'c', precision: 1, recall: 0.5, f1: 2 / 3, support: 2 },
  ];
  perClass.forEach((m, k) => {
    assert.equal(m.className, expected[k].className);
    assert.equal(m.support, expected[k].support);
    close(m.precision, expected[k].precision);
    close(m.recall, expected[k].recall);
    close(m.f1, expected[k].f1);
  });
  // Balanced accuracy: (0.5 + 1 + 0.5) / 3.
  close(balancedAccuracy(perClass), 2 / 3);
  // Macro F1: (0.5 + 0.8 + 0.6667) / 3 = 0.655556; supports are equal so weighted F1 is the same.
  close(macroF1(perClass), 0.655556);
  close(weightedF1(perClass), 0.655556);
});

test('weighted F1 weights by support and a never-predicted class scores 0', () => {
  // Truth 0,0,0,1; all predicted 0. Class 0: P 3/4, R 1, F1 = 1.5/1.75 = 6/7. Class 1: never
  // predicted -> P = R = F1 = 0. Weighted F1 = (3·6/7 + 1·0)/4 = 0.642857; macro = 3/7.
  const perClass = perClassMetrics(confusionMatrix([0, 0, 0, 1], [0, 0, 0, 0], 2), ['x', 'y']);
  close(perClass[0].f1, 6 / 7);
  assert.deepEqual([perClass[1].precision, perClass[1].recall, perClass[1].f1], [0, 0, 0]);
  close(weightedF1(perClass), 0.642857);
  close(macroF1(perClass), 3 / 7);
  // Balanced accuracy: (1 + 0) / 2.
  close(balancedAccuracy(perClass), 0.5);
});

test('balanced accuracy ignores classes absent from the truth', () => {
  // Class 2 has no true images; recalls of classes 0 and 1 are 1 and 1/2.
  const perClass = perClassMetrics(confusionMatrix([0, 1, 1], [0, 1, 2], 3), ['x', 'y', 'z']);
  close(balancedAccuracy(perClass), 0.75);
});

test('negative log-likelihood and Brier score match hand arithmetic', () => {
  // True-class probabilities .7 .3 .8 .5 .7 .4:
  // −(ln .7 + ln .3 + ln .8 + ln .5 + ln .7 + ln .4)/6
  // = (0.356675 + 1.203973 + 0.223144 + 0.693147 + 0.356675 + 0.916291)/6 = 3.749905/6
  close(negativeLogLikelihood(probs, labels), 0.624984);
  // Σ_k (p_k − y_k)² per image: .09+.04+.01=.14; .49+.36+.01=.86; .01+.04+.01=.06;
  // .04+.25+.09=.38; .01+.04+.09=.14; .25+.01+.36=.62. Total 2.2 over 6 images.
  close(brierScore(probs, labels), 2.2 / 6);
});

test('NLL clips a zero probability instead of returning Infinity', () => {
  close(negativeLogLikelihood([[1, 0]], [1]), -Math.log(1e-15));
});

test('rowsFromFlat splits an engine buffer into rows and rejects a ragged one', () => {
  const rows = rowsFromFlat(new Float32Array([0.25, 0.75, 1, 0]), 2);
  assert.deepEqual(rows.map((r) => Array.from(r)), [[0.25, 0.75], [1, 0]]);
  assert.throws(() => rowsFromFlat([1, 2, 3], 2), /not a multiple of numClasses 2/);
});

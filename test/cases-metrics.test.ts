// Case-level measures and baselines against values computed by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  caseBaselineCall,
  caseMetrics,
  keyInstanceAuc,
  majorityVoteCall,
  meanLogProbabilityCall,
  meanProbabilityCall,
  parseKeyCellTypes,
} from '../src/eval/index.js';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} ≠ ${b}`);

test('mean probability, mean log-probability and majority vote of one case, by hand', () => {
  const cells = [[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]];
  const mean = meanProbabilityCall(cells, 2);
  close(mean.probabilities[0], (0.9 + 0.6 + 0.2) / 3);
  assert.equal(mean.called, 0);
  // Geometric means: (0.9·0.6·0.2)^(1/3) = 0.47622, (0.1·0.4·0.8)^(1/3) = 0.31748 → 0.6000 / 0.4000.
  const g0 = Math.cbrt(0.9 * 0.6 * 0.2);
  const g1 = Math.cbrt(0.1 * 0.4 * 0.8);
  const log = meanLogProbabilityCall(cells, 2);
  close(log.probabilities[0], g0 / (g0 + g1));
  assert.equal(log.called, 0);
  const vote = majorityVoteCall(cells, 2);
  assert.deepEqual(vote.probabilities, [2 / 3, 1 / 3]);
  assert.equal(vote.called, 0);
  assert.deepEqual(caseBaselineCall('majority-vote', cells, 2), vote);
});

test('a vote tie goes to the tied class the cells are surer of; a zero probability does not veto a class in the log mean', () => {
  const tie = majorityVoteCall([[0.55, 0.45], [0.1, 0.9]], 2);
  assert.deepEqual(tie.probabilities, [0.5, 0.5]);
  assert.equal(tie.called, 1, 'mean probabilities 0.325 / 0.675 decide the tie');
  const log = meanLogProbabilityCall([[0, 1], [0.99, 0.01], [0.99, 0.01]], 2);
  assert.ok(log.probabilities[0] > 0, 'a floored zero leaves class 0 possible');
  assert.throws(() => meanProbabilityCall([], 2), /at least one usable cell/);
  assert.throws(() => meanProbabilityCall([[Number.NaN, 1]], 2), /non-finite/);
  assert.throws(() => caseBaselineCall('median' as never, [[1, 0]], 2), /unknown case baseline/);
});

test('case accuracy, AUC, ECE, Brier and NLL of four cases, by hand', () => {
  // Cases: labels 0,0,1,1; P(class 1) = 0.2, 0.6, 0.7, 0.9; calls follow argmax except case 1 (called 0 by its rule).
  const probs = [[0.8, 0.2], [0.4, 0.6], [0.3, 0.7], [0.1, 0.9]];
  const labels = [0, 0, 1, 1];
  const m = caseMetrics(probs, [0, 0, 1, 1], labels, ['a', 'b']);
  assert.equal(m.count, 4);
  assert.equal(m.accuracy, 1, 'accuracy reads the call, not argmax');
  assert.equal(caseMetrics(probs, [0, 1, 1, 1], labels, ['a', 'b']).accuracy, 0.75);
  // AUC: positives {0.7, 0.9} vs negatives {0.2, 0.6}: all 4 pairs ordered → 1.
  assert.equal(m.auc, 1);
  // Brier: (0.2²·2 + 0.6²·2 + 0.3²·2 + 0.1²·2) / 4 = (0.08 + 0.72 + 0.18 + 0.02) / 4 = 0.25.
  close(m.brier, 0.25);
  // NLL: −(ln 0.8 + ln 0.4 + ln 0.7 + ln 0.9) / 4.
  close(m.nll, -(Math.log(0.8) + Math.log(0.4) + Math.log(0.7) + Math.log(0.9)) / 4);
  // ECE with 2 bins (4 cases): top probabilities 0.8, 0.6, 0.7, 0.9 all in (0.5, 1]; argmax right in 3 of 4
  // (case 1's argmax is 1, label 0) → |0.75 − 0.75| = 0.
  close(m.ece, 0);
  // Three classes: macro one-vs-rest.
  const three = caseMetrics([[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.1, 0.3, 0.6]], [0, 1, 2], [0, 1, 2], ['x', 'y', 'z']);
  assert.equal(three.auc, 1);
  assert.deepEqual(three.perClassAuc, { x: 1, y: 1, z: 1 });
  const swapped = caseMetrics([[0.2, 0.7, 0.1], [0.5, 0.2, 0.3], [0.1, 0.3, 0.6]], [1, 0, 2], [0, 1, 2], ['x', 'y', 'z']);
  // x: scores 0.2 (pos) vs 0.5, 0.1 → 1/2; y: 0.2 (pos) vs 0.7, 0.3 → 0; z: 1 → macro 0.5.
  close(swapped.auc!, 0.5);
  assert.equal(swapped.accuracy, 1 / 3);
  assert.throws(() => caseMetrics([[Number.NaN, 1]], [0], [0], ['a', 'b']), /non-finite/);
});

test('key-instance AUC: within each case, and pooled over cells scaled by bag size, by hand', () => {
  const report = keyInstanceAuc([
    // Case A: key cells 0.4, 0.3 vs others 0.2, 0.1 → AUC 1.
    { weights: [0.4, 0.2, 0.3, 0.1], isKey: [true, false, true, false] },
    // Case B: key 0.2 vs others 0.5, 0.3 → AUC 0.
    { weights: [0.5, 0.2, 0.3], isKey: [false, true, false] },
    // Case C: no key cell (a normal case) → no AUC, left out.
    { weights: [0.5, 0.5], isKey: [false, false] },
  ]);
  assert.equal(report.cases, 2);
  close(report.meanCaseAuc!, 0.5);
  assert.equal(report.keyCells, 3);
  assert.equal(report.otherCells, 4);
  // Pooled scores ×bag size: key {1.6, 1.2, 0.6}, other {0.8, 0.4, 1.5, 0.9}: 12 pairs,
  // 1.6 beats 4, 1.2 beats 3, 0.6 beats 1 → 8/12.
  close(report.pooledAuc!, 8 / 12);
  assert.deepEqual(keyInstanceAuc([]), { meanCaseAuc: null, pooledAuc: null, cases: 0, keyCells: 0, otherCells: 0 });
});

test('the key cell type mapping is parsed strictly against the case classes', () => {
  const mapping = parseKeyCellTypes('left-shift=ig, erythroblastic=erythroblast+normoblast', ['erythroblastic', 'left-shift', 'normal']);
  assert.deepEqual([...mapping.get('left-shift')!], ['ig']);
  assert.deepEqual([...mapping.get('erythroblastic')!], ['erythroblast', 'normoblast']);
  assert.throws(() => parseKeyCellTypes('apl=promyelocyte', ['normal', 'left-shift']), /"apl" is not a case class/);
  assert.throws(() => parseKeyCellTypes('left-shift', ['left-shift']), /CASE_CLASS=CELL_TYPE/);
  assert.throws(() => parseKeyCellTypes('left-shift=ig,left-shift=blast', ['left-shift']), /given twice/);
  assert.throws(() => parseKeyCellTypes('', ['left-shift']), /empty/);
});

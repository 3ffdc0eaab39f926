// The case referral threshold, on hand-made calls: just above the surest wrong call, never below
// the floor, 1 (every call referred) when a wrong call was certain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { caseCallReferred, fitCaseReferralThreshold } from '../src/eval/index.js';

const argmax = (row: number[]) => row.indexOf(Math.max(...row));

test('the threshold sits just above the surest wrong call: that call and every one below it are referred, the surer ones are not', () => {
  const rows = [[0.95, 0.05], [0.2, 0.8], [0.88, 0.12], [0.1, 0.9], [0.75, 0.25], [0.4, 0.6]];
  const labels = [0, 1, 1, 1, 0, 1]; // case 2 (0.88) is wrong
  const fit = fitCaseReferralThreshold(rows, rows.map(argmax), labels, 0.7);
  assert.equal(fit.errors, 1);
  assert.equal(fit.surestWrong, 0.88);
  assert.ok(fit.threshold > 0.88 && fit.threshold - 0.88 < 1e-15, `just above 0.88, got ${fit.threshold}`);
  assert.equal(caseCallReferred(0.88, fit.threshold), true);
  assert.equal(caseCallReferred(0.9, fit.threshold), false);
  // Referred: 0.8, 0.88, 0.75, 0.6; not: 0.95, 0.9.
  assert.equal(fit.referred, 4);
  assert.equal(fit.cases, 6);
});

test('without a wrong call, or with only unsure wrong calls, the floor is the threshold', () => {
  const rows = [[0.9, 0.1], [0.3, 0.7], [0.55, 0.45]];
  assert.equal(fitCaseReferralThreshold(rows, rows.map(argmax), [0, 1, 0], 0.7).threshold, 0.7);
  const fit = fitCaseReferralThreshold(rows, rows.map(argmax), [0, 1, 1], 0.7);
  assert.equal(fit.errors, 1);
  assert.equal(fit.surestWrong, 0.55);
  assert.equal(fit.threshold, 0.7);
});

test('a wrong call of probability 1 makes the threshold 1, which refers every call, certain ones included', () => {
  const rows = [[1, 0], [0, 1]];
  const fit = fitCaseReferralThreshold(rows, rows.map(argmax), [1, 1], 0.7);
  assert.equal(fit.threshold, 1);
  assert.equal(caseCallReferred(1, fit.threshold), true);
  assert.equal(fit.referred, 2);
});

test('the call read is the one given (a vote may not be the argmax), and bad input is refused by name', () => {
  const rows = [[0.5, 0.5], [0.8, 0.2]];
  const fit = fitCaseReferralThreshold(rows, [1, 0], [0, 0], 0.5);
  assert.equal(fit.surestWrong, 0.5);
  assert.throws(() => fitCaseReferralThreshold(rows, [0], [0, 0], 0.7), /2 probability rows, 1 calls and 2 labels/);
  assert.throws(() => fitCaseReferralThreshold([[Number.NaN, 1]], [0], [0], 0.7), /case 0's call has probability NaN/);
  assert.throws(() => fitCaseReferralThreshold(rows, [0, 0], [0, 0], 1.5), /floor must be a share/);
  assert.equal(caseCallReferred(Number.NaN, 0.7), true, 'a probability that is not a number is referred');
});

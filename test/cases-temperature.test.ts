// The case model's temperature is fitted on a handful of validation cases, so it may only soften
// the case call, never sharpen it (fail closed: confidence is not earned from 18 cases).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { caseTemperature } from '../src/train/index.js';

test('a fit asking for T < 1 (sharpening) is not applied; the record says why', () => {
  // Nine cases right with a small margin and one wrong with a smaller one: the NLL optimum sharpens.
  const logits = [...Array.from({ length: 9 }, () => [0.5, 0]), [0, 0.1]];
  const labels = [...Array(9).fill(0), 0];
  const { temperature, fittedOn } = caseTemperature(logits, labels);
  assert.equal(temperature, 1);
  assert.match(fittedOn, /< 1.*only softening/);
});

test('a fit asking for T > 1 (softening over-confident calls) is applied', () => {
  // Confident and wrong on three of ten cases: the fit softens.
  const logits = [...Array.from({ length: 7 }, () => [4, 0]), ...Array.from({ length: 3 }, () => [0, 4])];
  const labels = Array(10).fill(0);
  const { temperature, fittedOn } = caseTemperature(logits, labels);
  assert.ok(temperature > 1, `T = ${temperature}`);
  assert.match(fittedOn, /^val \(10 cases/);
});

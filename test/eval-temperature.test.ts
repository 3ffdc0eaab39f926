import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyTemperature, expectedCalibrationError, fitTemperature, softmaxRow } from '../src/eval/index.js';
import { mulberry32 } from '../src/data/prng.js';

/** Standard normal by Box–Muller. */
function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/**
 * Labels are drawn from softmax(trueLogits), so the true logits are perfectly calibrated; the
 * model reports trueLogits · T, i.e. it is over-confident by exactly T.
 */
function overconfidentSet(count: number, numClasses: number, temperature: number, seed: number) {
  const random = mulberry32(seed);
  const logits: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < count; i++) {
    const trueLogits = Array.from({ length: numClasses }, () => 2 * gaussian(random));
    const p = softmaxRow(trueLogits);
    let u = random();
    let label = 0;
    while (label < numClasses - 1 && u >= p[label]) u -= p[label++];
    labels.push(label);
    logits.push(trueLogits.map((z) => z * temperature));
  }
  return { logits, labels };
}

test('temperature scaling recovers a known temperature on synthetic logits', () => {
  for (const trueTemperature of [0.5, 2.5]) {
    const { logits, labels } = overconfidentSet(20000, 5, trueTemperature, 11);
    const fit = fitTemperature(logits, labels);
    assert.equal(fit.atBound, null);
    assert.ok(Math.abs(fit.temperature / trueTemperature - 1) < 0.05, `fitted ${fit.temperature}, true ${trueTemperature}`);
    assert.ok(fit.nllAfter < fit.nllBefore);
    const before = expectedCalibrationError(applyTemperature(logits, 1), labels).expectedCalibrationError;
    const after = expectedCalibrationError(applyTemperature(logits, fit.temperature), labels).expectedCalibrationError;
    assert.ok(after < before / 3, `ECE ${before} -> ${after}`);
  }
});

test('temperature fit matches the closed form on a two-class example', () => {
  // Four images with logits [1, 0], three labelled 0 and one labelled 1. With s = 1/T the NLL
  // gradient is σ(s) − 3/4, zero at s = ln 3, so T = 1/ln 3 = 0.910239.
  const fit = fitTemperature([[1, 0], [1, 0], [1, 0], [1, 0]], [0, 0, 0, 1]);
  assert.ok(Math.abs(fit.temperature - 1 / Math.log(3)) < 1e-10, `${fit.temperature}`);
  // NLL at T=1: −(3 ln σ(1) + ln(1 − σ(1)))/4 = (3·0.313262 + 1.313262)/4 = 0.563262.
  assert.ok(Math.abs(fit.nllBefore - 0.563262) < 1e-6);
  assert.equal(fitTemperature([[1, 0], [1, 0], [1, 0], [1, 0]], [0, 0, 0, 1]).temperature, fit.temperature);
});

test('degenerate validation sets land on a flagged bound instead of diverging', () => {
  // Every image right: the NLL keeps falling as T -> 0.
  assert.equal(fitTemperature([[2, 0], [0, 3]], [0, 1]).atBound, 'lower');
  // Logits carry no information (half right, half wrong at the same logits): T -> ∞.
  assert.equal(fitTemperature([[1, 0], [1, 0]], [0, 1]).atBound, 'upper');
  // Constant logits: NLL does not depend on T.
  assert.deepEqual(fitTemperature([[0, 0], [0, 0]], [0, 1]).temperature, 1);
});

test('applyTemperature keeps the argmax and rejects a non-positive temperature', () => {
  const [cooler] = applyTemperature([[2, 1, 0]], 2);
  assert.ok(cooler[0] > cooler[1] && cooler[1] > cooler[2]);
  assert.ok(cooler[0] < softmaxRow([2, 1, 0])[0]);
  assert.throws(() => applyTemperature([[1, 0]], 0), /temperature must be a finite number > 0/);
});

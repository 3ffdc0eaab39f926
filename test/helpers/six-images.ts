// The small hand-checkable example the eval tests share: six images, three classes.
// Predictions (argmax) are 0, 1, 1, 1, 2, 0.
import assert from 'node:assert/strict';

export const labels = [0, 0, 1, 1, 2, 2];
export const probs = [
  [0.7, 0.2, 0.1],
  [0.3, 0.6, 0.1],
  [0.1, 0.8, 0.1],
  [0.2, 0.5, 0.3],
  [0.1, 0.2, 0.7],
  [0.5, 0.1, 0.4],
];

export const close = (actual: number, expected: number, tolerance = 1e-6): void =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not within ${tolerance} of ${expected}`);

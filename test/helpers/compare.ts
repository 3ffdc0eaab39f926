// Numeric comparison helpers shared by the tests.
import assert from 'node:assert/strict';
import type { Tensor } from '../../src/torch/index.js';

/** Largest |a - b| / (atol + rtol·|b|) over all elements must stay ≤ 1. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, { atol = 1e-5, rtol = 1e-4 } = {}): void {
  assert.equal(actual.length, expected.length, `${what}: ${actual.length} values, expected ${expected.length}`);
  let worst = 0;
  let worstIndex = -1;
  for (let i = 0; i < actual.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) / (atol + rtol * Math.abs(expected[i]));
    if (!(err <= worst)) {
      worst = err;
      worstIndex = i;
    }
  }
  assert.ok(worst <= 1, `${what}: element ${worstIndex} is ${actual[worstIndex]}, expected ${expected[worstIndex]} (atol ${atol}, rtol ${rtol})`);
}

export function assertTensorClose(actual: Tensor, expected: Tensor, what: string, tol?: { atol?: number; rtol?: number }): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  assertClose(actual.toArray(), expected.toArray(), what, tol);
}

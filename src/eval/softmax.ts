import type { Rows } from './rows.js';

/**
 * Softmax of logits / temperature, computed after subtracting the row maximum so that large
 * logits cannot overflow exp().
 */
export function softmaxRow(logits: ArrayLike<number>, temperature = 1): Float64Array {
  const out = new Float64Array(logits.length);
  let max = -Infinity;
  for (let j = 0; j < logits.length; j++) max = Math.max(max, logits[j] / temperature);
  let sum = 0;
  for (let j = 0; j < logits.length; j++) {
    out[j] = Math.exp(logits[j] / temperature - max);
    sum += out[j];
  }
  for (let j = 0; j < out.length; j++) out[j] /= sum;
  return out;
}

export function softmaxRows(logits: Rows, temperature = 1): Float64Array[] {
  return logits.map((row) => softmaxRow(row, temperature));
}

/** log Σ exp(x_j · scale), stable for any magnitude of x. */
export function logSumExp(x: ArrayLike<number>, scale = 1): number {
  let max = -Infinity;
  for (let j = 0; j < x.length; j++) max = Math.max(max, x[j] * scale);
  let sum = 0;
  for (let j = 0; j < x.length; j++) sum += Math.exp(x[j] * scale - max);
  return max + Math.log(sum);
}

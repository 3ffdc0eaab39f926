import type { Rows } from './rows.js';

/**
 * Probabilities are clipped to [1e-15, 1] before the log (scikit-learn's log_loss does the
 * same): a single p = 0 on the true class would make the mean infinite, which is neither useful
 * nor representable in JSON.
 */
const MIN_PROBABILITY = 1e-15;

/** Mean −log p(true class). */
export function negativeLogLikelihood(probs: Rows, labels: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < probs.length; i++) sum -= Math.log(Math.max(MIN_PROBABILITY, probs[i][labels[i]]));
  return sum / probs.length;
}

/**
 * Multi-class Brier score (Brier 1950): mean over images of Σ_k (p_k − 1[k = y])², so it
 * ranges from 0 (certain and right) to 2 (certain and wrong).
 */
export function brierScore(probs: Rows, labels: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < probs.length; i++) {
    const row = probs[i];
    for (let k = 0; k < row.length; k++) {
      const target = k === labels[i] ? 1 : 0;
      sum += (row[k] - target) ** 2;
    }
  }
  return sum / probs.length;
}

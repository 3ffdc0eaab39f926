import type { Rows } from './rows.js';

/**
 * Input checks shared by every metric. A wrong shape here is almost always a caller bug (labels
 * from one split, predictions from another), so the message names both sizes.
 */
export function checkLabels(labels: ArrayLike<number>, numClasses: number, what = 'labels'): void {
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= numClasses) {
      throw new Error(`${what}[${i}] = ${y} is not a class index in 0..${numClasses - 1}`);
    }
  }
}

export function checkRows(rows: Rows, labels: ArrayLike<number>, what: 'probs' | 'logits'): number {
  if (rows.length === 0) throw new Error(`${what} is empty: nothing to evaluate`);
  if (rows.length !== labels.length) {
    throw new Error(`${what} has ${rows.length} rows but labels has ${labels.length} entries; they must describe the same images`);
  }
  const numClasses = rows[0].length;
  if (numClasses < 2) throw new Error(`${what} rows have ${numClasses} column(s); a classifier needs at least 2 classes`);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (row.length !== numClasses) {
      throw new Error(`${what}[${i}] has ${row.length} columns but ${what}[0] has ${numClasses}`);
    }
    for (let j = 0; j < numClasses; j++) {
      if (!Number.isFinite(row[j])) throw new Error(`${what}[${i}][${j}] = ${row[j]} is not a finite number`);
    }
  }
  checkLabels(labels, numClasses);
  return numClasses;
}

/** Probabilities must lie in [0, 1] and sum to 1 (to float32 precision, as an engine's softmax gives). */
export function checkProbabilities(probs: Rows, labels: ArrayLike<number>): number {
  const numClasses = checkRows(probs, labels, 'probs');
  for (let i = 0; i < probs.length; i++) {
    let sum = 0;
    for (let j = 0; j < numClasses; j++) {
      const p = probs[i][j];
      if (p < 0 || p > 1) throw new Error(`probs[${i}][${j}] = ${p} is outside [0, 1]; pass logits instead if these are raw scores`);
      sum += p;
    }
    if (Math.abs(sum - 1) > 1e-4) throw new Error(`probs[${i}] sums to ${sum}, not 1; pass logits instead if these are raw scores`);
  }
  return numClasses;
}

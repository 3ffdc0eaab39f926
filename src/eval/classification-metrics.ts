/**
 * Metrics read off a confusion matrix. Where a ratio has a zero denominator (a class never
 * predicted, or absent from the truth) it counts as 0, scikit-learn's `zero_division=0`, so
 * that a class the model ignores drags the macro average down instead of vanishing from it.
 */
export interface ClassMetrics {
  className: string;
  precision: number;
  recall: number;
  f1: number;
  /** Number of images whose true class is this one. */
  support: number;
}

function ratio(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}

function total(matrix: number[][]): number {
  let n = 0;
  for (const row of matrix) for (const c of row) n += c;
  return n;
}

export function accuracy(matrix: number[][]): number {
  let correct = 0;
  for (let k = 0; k < matrix.length; k++) correct += matrix[k][k];
  return ratio(correct, total(matrix));
}

export function perClassMetrics(matrix: number[][], classNames: readonly string[]): ClassMetrics[] {
  if (classNames.length !== matrix.length) {
    throw new Error(`perClassMetrics: ${classNames.length} class names for a ${matrix.length}×${matrix.length} confusion matrix`);
  }
  return matrix.map((row, k) => {
    const truePositives = row[k];
    const support = row.reduce((a, b) => a + b, 0);
    const predicted = matrix.reduce((sum, r) => sum + r[k], 0);
    const precision = ratio(truePositives, predicted);
    const recall = ratio(truePositives, support);
    const f1 = ratio(2 * precision * recall, precision + recall);
    return { className: classNames[k], precision, recall, f1, support };
  });
}

/**
 * Mean recall over the classes present in the truth: the accuracy a model would get if every
 * class were equally frequent, which is what matters when rare subtypes are the interesting ones.
 */
export function balancedAccuracy(perClass: readonly ClassMetrics[]): number {
  const present = perClass.filter((m) => m.support > 0);
  return ratio(present.reduce((sum, m) => sum + m.recall, 0), present.length);
}

export function macroF1(perClass: readonly ClassMetrics[]): number {
  return ratio(perClass.reduce((sum, m) => sum + m.f1, 0), perClass.length);
}

export function weightedF1(perClass: readonly ClassMetrics[]): number {
  const supportTotal = perClass.reduce((sum, m) => sum + m.support, 0);
  return ratio(perClass.reduce((sum, m) => sum + m.f1 * m.support, 0), supportTotal);
}

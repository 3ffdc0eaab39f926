// Case-level measures: one row per case (patient), whatever made the call (the case model or a
// baseline over the cells). Accuracy reads the call itself (a vote tie is decided by its rule, not
// by argmax); ROC-AUC, ECE, Brier and NLL read the case probabilities.
import { expectedCalibrationError } from './calibration-error.js';
import { rocAucOneVsRest } from './roc.js';
import type { Rows } from './rows.js';
import { brierScore, negativeLogLikelihood } from './scoring-rules.js';

export interface CaseMetrics {
  /** Cases measured. */
  count: number;
  /** Fraction of cases whose call is their label. */
  accuracy: number;
  /** ROC-AUC of the case probabilities: one-vs-rest macro over the classes that have positives and negatives (for 2 classes, the AUC). */
  auc: number | null;
  perClassAuc: Record<string, number | null>;
  /** Expected calibration error over equal-width bins of the top probability (the image rule: floor(n/10) bins, 2–15). */
  ece: number;
  /** Multi-class Brier score, 0 (sure and right) to 2 (sure and wrong). */
  brier: number;
  nll: number;
}

/** Measures case calls: `called[i]` is case i's call, `probabilities[i]` its class probabilities, `labels[i]` its label. */
export function caseMetrics(probabilities: Rows, called: readonly number[], labels: readonly number[], classNames: readonly string[]): CaseMetrics {
  const n = probabilities.length;
  if (called.length !== n || labels.length !== n) throw new Error(`caseMetrics: ${n} probability rows, ${called.length} calls and ${labels.length} labels must all be equal`);
  if (n === 0) throw new Error('caseMetrics: no cases to measure');
  probabilities.forEach((row, i) => {
    if (row.length !== classNames.length) throw new Error(`caseMetrics: case ${i} has ${row.length} probabilities for ${classNames.length} classes`);
    for (let k = 0; k < row.length; k++) if (!Number.isFinite(row[k])) throw new Error(`caseMetrics: case ${i} has a non-finite probability; no metrics are computed over it`);
  });
  const correct = called.filter((c, i) => c === labels[i]).length;
  const roc = rocAucOneVsRest(probabilities, labels, classNames);
  return {
    count: n,
    accuracy: correct / n,
    auc: roc.macroAuc,
    perClassAuc: Object.fromEntries(roc.perClass.map((c) => [c.className, c.auc])),
    ece: expectedCalibrationError(probabilities, labels).expectedCalibrationError,
    brier: brierScore(probabilities, labels),
    nll: negativeLogLikelihood(probabilities, labels),
  };
}

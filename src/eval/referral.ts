import { argmax, type Rows } from './rows.js';

/**
 * "Refer to a specialist": an image whose top calibrated probability is below the threshold is
 * not labelled at all. The threshold only makes sense on calibrated probabilities, which is why
 * it is applied after temperature scaling.
 */
export function shouldReferToSpecialist(calibratedProbs: ArrayLike<number>, threshold: number): boolean {
  checkThreshold(threshold);
  return calibratedProbs[argmax(calibratedProbs)] < threshold;
}

export interface ReferralSummary {
  threshold: number;
  referred: number;
  /** Fraction of images kept (not referred). */
  coverage: number;
  /** Accuracy on the images kept; null if all were referred. */
  accuracyOnKept: number | null;
}

/** What the rule would have done on a labelled set: how much it keeps, and how good the kept part is. */
export function summarizeReferral(calibratedProbs: Rows, labels: ArrayLike<number>, threshold: number): ReferralSummary {
  checkThreshold(threshold);
  let referred = 0;
  let keptCorrect = 0;
  calibratedProbs.forEach((row, i) => {
    const predicted = argmax(row);
    if (row[predicted] < threshold) referred++;
    else if (predicted === labels[i]) keptCorrect++;
  });
  const kept = calibratedProbs.length - referred;
  return {
    threshold,
    referred,
    coverage: kept / calibratedProbs.length,
    accuracyOnKept: kept === 0 ? null : keptCorrect / kept,
  };
}

function checkThreshold(threshold: number): void {
  if (!(threshold >= 0 && threshold <= 1)) throw new Error(`referral threshold must be a probability in [0, 1], got ${threshold}`);
}

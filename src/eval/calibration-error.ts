import { argmax, type Rows } from './rows.js';

export interface CalibrationBin {
  /** The bin covers confidences in (lower, upper]; the first bin also takes 0. */
  lower: number;
  upper: number;
  count: number;
  /** Fraction of the bin's images predicted correctly; null for an empty bin. */
  accuracy: number | null;
  /** Mean top-class probability in the bin; null for an empty bin. */
  meanConfidence: number | null;
}

export interface CalibrationReport {
  /** Σ_b (n_b / N) · |accuracy_b − confidence_b|. */
  expectedCalibrationError: number;
  /** The largest |accuracy_b − confidence_b| over non-empty bins. */
  maximumCalibrationError: number;
  bins: CalibrationBin[];
}

/** Guo et al. (2017) use 15 bins; reaching their number on large sets keeps ECE comparable with papers. */
export const MAX_CALIBRATION_BINS = 15;

/**
 * How many equal-width bins n images get: floor(n / 10), kept within 2..15. About ten images per
 * bin on average, so one bin's accuracy is not a single image's 0 or 1 (15 bins for 32 images
 * leaves most bins empty or singletons, and ECE then measures the noise of tiny bins); from 150
 * images up it is Guo et al.'s 15. The reliability diagram and the ECE number use the same rule.
 */
export function calibrationBinCount(n: number): number {
  return Math.max(2, Math.min(MAX_CALIBRATION_BINS, Math.floor(n / 10)));
}

/** The rule above in words, for captions. */
export const CALIBRATION_BIN_RULE = 'equal-width confidence bins, floor(n / 10) of them kept within 2\u201315 for n images';

/**
 * Index b with b/numBins < confidence ≤ (b+1)/numBins. Found by comparing against the same
 * boundaries the table reports, because confidence·numBins can round across a boundary
 * (2/15 · 15 = 2.0000000000000004 would otherwise land in the wrong bin).
 */
export function calibrationBinOf(confidence: number, numBins: number): number {
  let b = Math.min(numBins - 1, Math.max(0, Math.ceil(confidence * numBins) - 1));
  while (b > 0 && confidence <= b / numBins) b--;
  while (b < numBins - 1 && confidence > (b + 1) / numBins) b++;
  return b;
}

export function expectedCalibrationError(probs: Rows, labels: ArrayLike<number>, numBins = calibrationBinCount(probs.length)): CalibrationReport {
  if (!Number.isInteger(numBins) || numBins < 1) throw new Error(`expectedCalibrationError: numBins must be a positive integer, got ${numBins}`);
  if (probs.length !== labels.length) throw new Error(`expectedCalibrationError: ${probs.length} rows but ${labels.length} labels`);
  const counts = new Array<number>(numBins).fill(0);
  const correct = new Array<number>(numBins).fill(0);
  const confidenceSum = new Array<number>(numBins).fill(0);
  probs.forEach((row, i) => {
    const predicted = argmax(row);
    const b = calibrationBinOf(row[predicted], numBins);
    counts[b]++;
    confidenceSum[b] += row[predicted];
    if (predicted === labels[i]) correct[b]++;
  });

  let ece = 0;
  let mce = 0;
  const bins = counts.map((count, b): CalibrationBin => {
    const bounds = { lower: b / numBins, upper: (b + 1) / numBins, count };
    if (count === 0) return { ...bounds, accuracy: null, meanConfidence: null };
    const accuracy = correct[b] / count;
    const meanConfidence = confidenceSum[b] / count;
    const gap = Math.abs(accuracy - meanConfidence);
    ece += (count / probs.length) * gap;
    mce = Math.max(mce, gap);
    return { ...bounds, accuracy, meanConfidence };
  });
  return { expectedCalibrationError: ece, maximumCalibrationError: mce, bins };
}

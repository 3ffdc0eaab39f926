import { bootstrapIntervals, type BootstrapIntervals, type BootstrapOptions } from './bootstrap.js';
import { calibrationBinCount, expectedCalibrationError, type CalibrationReport } from './calibration-error.js';
import { accuracy, balancedAccuracy, macroF1, perClassMetrics, weightedF1, type ClassMetrics } from './classification-metrics.js';
import { confusionMatrix } from './confusion-matrix.js';
import { aggregateByPatient, labelsBelongToPatients } from './patient-aggregation.js';
import { summarizeReferral, type ReferralSummary } from './referral.js';
import { rocAucOneVsRest, type RocOneVsRest } from './roc.js';
import { predictedClasses, type Rows } from './rows.js';
import { brierScore, negativeLogLikelihood } from './scoring-rules.js';
import { applyTemperature } from './temperature-scaling.js';
import { checkProbabilities, checkRows } from './validate.js';

/** Every number one set of predictions earns; plain arrays and numbers only, so JSON.stringify keeps it all. */
export interface MetricsReport {
  count: number;
  accuracy: number;
  balancedAccuracy: number;
  macroF1: number;
  weightedF1: number;
  perClass: ClassMetrics[];
  /** confusionMatrix[true][predicted]. */
  confusionMatrix: number[][];
  roc: RocOneVsRest;
  calibration: CalibrationReport;
  negativeLogLikelihood: number;
  brierScore: number;
  /** Present when a referral threshold was given. */
  referral: ReferralSummary | null;
  /** Bootstrap confidence intervals of the headline metrics; null when the bootstrap was turned off. */
  intervals: BootstrapIntervals | null;
}

export interface ClassifierReport {
  classNames: string[];
  /** The temperature the probabilities were computed at (1 = uncalibrated). */
  temperature: number;
  images: MetricsReport;
  /** Same metrics on each patient's mean image probabilities; null without patient ids. */
  patients: MetricsReport | null;
}

interface CommonInput {
  labels: ArrayLike<number>;
  classNames: readonly string[];
  patientIds?: readonly string[];
  referralThreshold?: number;
  /** Default: calibrationBinCount(number of rows), for images and patients each. */
  calibrationBins?: number;
  /** Resampling of the confidence intervals (by patient when patientIds are given); false skips them. */
  bootstrap?: BootstrapOptions | false;
}

/** Either probabilities, or logits with an optional temperature to divide them by. */
export type EvaluateClassifierInput = CommonInput & (
  | { probs: Rows; logits?: undefined; temperature?: undefined }
  | { logits: Rows; probs?: undefined; temperature?: number }
);

export function evaluateClassifier(input: EvaluateClassifierInput): ClassifierReport {
  const { labels, classNames } = input;
  const temperature = input.temperature ?? 1;
  let probs: Rows;
  if (input.logits !== undefined) {
    checkRows(input.logits, labels, 'logits');
    probs = applyTemperature(input.logits, temperature);
  } else {
    checkProbabilities(input.probs, labels);
    probs = input.probs;
  }
  if (probs[0].length !== classNames.length) {
    throw new Error(`evaluateClassifier: the model gives ${probs[0].length} class scores but ${classNames.length} class names were given`);
  }
  const options = { bins: input.calibrationBins, referralThreshold: input.referralThreshold, bootstrap: input.bootstrap ?? {} };
  const images = computeMetrics(probs, labels, classNames, { ...options, groups: input.patientIds, unit: 'image' });
  let patients: MetricsReport | null = null;
  // Patient-level metrics only where the label is the patient's; cell-type labels still resample by patient.
  if (input.patientIds !== undefined && labelsBelongToPatients(labels, input.patientIds)) {
    const pooled = aggregateByPatient(probs, labels, input.patientIds);
    patients = computeMetrics(pooled.probs, pooled.labels, classNames, { ...options, unit: 'patient' });
  }
  return { classNames: [...classNames], temperature, images, patients };
}

interface MetricsOptions {
  bins: number | undefined;
  referralThreshold: number | undefined;
  bootstrap: BootstrapOptions | false;
  /** Patient id per row, so the bootstrap draws whole patients. */
  groups?: readonly string[];
  /** What one row is; pooled patient rows are resampled as patients. */
  unit: 'image' | 'patient';
}

function computeMetrics(probs: Rows, labels: ArrayLike<number>, classNames: readonly string[], options: MetricsOptions): MetricsReport {
  const matrix = confusionMatrix(labels, predictedClasses(probs), classNames.length);
  const perClass = perClassMetrics(matrix, classNames);
  const bins = options.bins ?? calibrationBinCount(probs.length);
  const unit = options.groups ? 'patient' : options.unit;
  return {
    count: probs.length,
    accuracy: accuracy(matrix),
    balancedAccuracy: balancedAccuracy(perClass),
    macroF1: macroF1(perClass),
    weightedF1: weightedF1(perClass),
    perClass,
    confusionMatrix: matrix,
    roc: rocAucOneVsRest(probs, labels, classNames),
    calibration: expectedCalibrationError(probs, labels, bins),
    negativeLogLikelihood: negativeLogLikelihood(probs, labels),
    brierScore: brierScore(probs, labels),
    referral: options.referralThreshold === undefined ? null : summarizeReferral(probs, labels, options.referralThreshold),
    intervals: options.bootstrap === false ? null : bootstrapIntervals(probs, labels, classNames, { ...options.bootstrap, bins, groups: options.groups, unit }),
  };
}

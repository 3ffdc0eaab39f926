export { rowsFromFlat, argmax, predictedClasses, confidences, type Rows } from './rows.js';
export { softmaxRow, softmaxRows } from './softmax.js';
export { confusionMatrix } from './confusion-matrix.js';
export { accuracy, balancedAccuracy, perClassMetrics, macroF1, weightedF1, type ClassMetrics } from './classification-metrics.js';
export { rocCurve, rocAucOneVsRest, type RocCurve, type RocPoint, type RocOneVsRest } from './roc.js';
export {
  expectedCalibrationError,
  calibrationBinCount,
  CALIBRATION_BIN_RULE,
  MAX_CALIBRATION_BINS,
  type CalibrationBin,
  type CalibrationReport,
} from './calibration-error.js';
export { bootstrapIntervals, type BootstrapIntervals, type BootstrapOptions, type Interval } from './bootstrap.js';
export { negativeLogLikelihood, brierScore } from './scoring-rules.js';
export { fitTemperature, applyTemperature, TEMPERATURE_RANGE, type TemperatureFit } from './temperature-scaling.js';
export { aggregateByPatient, labelsBelongToPatients, type PatientPredictions } from './patient-aggregation.js';
export { shouldReferToSpecialist, summarizeReferral, type ReferralSummary } from './referral.js';
export {
  evaluateClassifier,
  type EvaluateClassifierInput,
  type ClassifierReport,
  type MetricsReport,
} from './evaluate-classifier.js';
export { evaluateWithTemperatureScaling, type CalibratedEvaluation, type LabelledLogits } from './calibrated-evaluation.js';
export { collectLogits, type CollectedLogits } from './collect-logits.js';
export { caseBaselineCall, meanProbabilityCall, meanLogProbabilityCall, majorityVoteCall, CASE_BASELINES, CASE_LOG_PROBABILITY_FLOOR, type CaseBaseline, type CaseBaselineCall } from './case-baselines.js';
export { caseMetrics, type CaseMetrics } from './case-metrics.js';
export { fitCaseReferralThreshold, caseCallReferred, type CaseReferralFit } from './case-referral.js';
export { parseKeyCellTypes, keyInstanceAuc, type KeyCellTypes, type KeyInstanceCase, type KeyInstanceReport } from './case-key-instances.js';
export { energyScore, maxSoftmaxScore } from './ood-logit-scores.js';
export { fitClassGaussians, nearestClassMahalanobis, type ClassGaussians, type GaussianFitOptions } from './ood-gaussian.js';
export { ledoitWolfCovariance, invertPositiveDefinite, quadraticForm, type SquareMatrix } from './ood-linear-algebra.js';
export { imageStatistics, IMAGE_STATISTICS, type ChannelNormalization } from './ood-image-stats.js';
export { fitOodThreshold, isOutOfDistribution, flaggedShare } from './ood-threshold.js';
export { oodAuroc } from './ood-auroc.js';
export { collectOodInputs, type OodInputs } from './ood-collect.js';
export { fitOodDetector, oodScore, oodPartScores, OOD_METHOD, type OodDetector, type OodFit, type OodFitSplit } from './ood-detector.js';

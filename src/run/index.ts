export { loadRun, requireCalibration, type LoadedRun, type LoadRunOptions } from './load-run.js';
export { predictImages, type PredictInput, type PredictOptions, type PredictResult, type ImagePrediction, type ImageFailure, type ReferralReason } from './predict-images.js';
export { inputPng, overlayPng, panelPng, heatmapPng, type DrawOptions } from './prediction-images.js';
export { evaluateRun, type RunEvaluation, type EvaluateRunOptions, type EvaluatedSet } from './evaluate-run.js';
export { explainImage, type ExplainImageOptions, type ImageExplanationReport } from './explain-image.js';
export { writeMetricsJson, writeRunReport } from './run-report.js';
export { RUN_FILES, runPath, readRunConfig, DEFAULT_REFERRAL_THRESHOLD, type RunConfig, type Calibration } from '../train/index.js';

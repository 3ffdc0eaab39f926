export { loadRun, type LoadedRun } from './load-run.js';
export { predictImages, OVERLAY_METHODS, type PredictInput, type PredictOptions, type PredictResult, type ImagePrediction, type ImageFailure, type OverlayMethod } from './predict-images.js';
export { evaluateRun, type RunEvaluation, type EvaluateRunOptions, type EvaluatedSet } from './evaluate-run.js';
export { explainImage, type ExplainImageOptions, type ImageExplanationReport } from './explain-image.js';
export { writeMetricsJson, writeRunReport } from './run-report.js';
export { RUN_FILES, runPath, readRunConfig, DEFAULT_REFERRAL_THRESHOLD, type RunConfig, type Calibration } from '../train/index.js';

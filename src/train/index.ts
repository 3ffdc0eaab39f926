export { trainRun, trainFolds, type TrainResult } from './fit.js';
export { TrainingConfigSchema, TRAINING_DEFAULTS, parseTrainingConfig, type TrainingConfig } from './training-config.js';
export { Learner, NonFiniteLossError, type Callback, type EpochSummary, type BatchProgress, type StopReason, type LearnerOptions } from './learner.js';
export { learningRateAt, type ScheduleSpec } from './lr-schedule.js';
export { saveCheckpoint, loadCheckpoint, hasCheckpoint, type LoopPosition } from './checkpoint.js';
export { readMetricsLog } from './callbacks/metrics-log.js';
export {
  RUN_FILES,
  runPath,
  readRunConfig,
  saveCalibration,
  DEFAULT_CACHE_DIR,
  DEFAULT_REFERRAL_THRESHOLD,
  type RunConfig,
  type Calibration,
} from './run-files.js';
export { readCalibration, sha256OfFile, weightsMetadata, checkWeightsMatchRun, WEIGHTS_METADATA } from './run-files.js';

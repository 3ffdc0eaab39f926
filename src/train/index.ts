export { trainRun, trainFolds, type TrainResult } from './fit.js';
export { TrainingConfigSchema, TRAINING_DEFAULTS, parseTrainingConfig, type TrainingConfig } from './training-config.js';
export { Learner, NonFiniteLossError, attentionEntropy, type Callback, type EpochSummary, type BatchProgress, type StopReason, type LearnerOptions } from './learner.js';
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
export { type TtaMode } from './run-files.js';
export { collectLogitsInMode, calibrateOnValidation, DEFAULT_TTA } from './calibrate.js';
export { distillRun, distillationLoss, teacherRows, checkDistillSettings, DISTILL_DEFAULTS, DISTILLATION_FILE, DistillationRecordSchema, type DistillSettings, type TeacherTargets, type DistillationRecord } from './distill.js';
export type { TrainingLoss } from './learner.js';
export { readCaseLevel, writeCaseLevel, sourceCases, CaseLevelSchema, CaseReferralSchema, CASE_MODEL_FILE, type CaseLevelRecord, type CaseModelRecord, type CaseReferral, type CaseSplitScores, type SourceCases } from './case-level.js';
export { outOfFoldCaseCalls, trainCaseFolds, outOfFoldLogits, disposeFolds, type OutOfFoldCalls, type CaseFold, type CaseFoldOptions } from './case-cross-validation.js';
export { loadCaseModel, saveCaseModelFile, embeddingSize } from './case-level-model.js';
export { caseTemperature } from './case-temperature.js';
export { trainCaseModel, prepareCaseData, chooseBaseline, recordCaseLevel, DEFAULT_CASE_FOLDS, DEFAULT_CASE_ENCODER, type CellRun, type CaseData, type CaseDataOptions, type TrainCaseOptions, type TrainCaseResult } from './train-case.js';
export { trainCaseHead, trainCaseHeads, ensembleLogitsOfBags, DEFAULT_CASE_HEADS, caseLogitsOf, caseLogLoss, CASE_HEAD_DEFAULTS, type CaseHeadOptions, type CaseEpoch, type TrainedCaseHead } from './train-case-head.js';
export { FINE_TUNE_DEFAULTS, type FineTuneOptions } from './train-case-fine-tune.js';
export { bagsOf, bagWithout, collectCellOutputs, type CaseBag, type CellOutputs } from './train-case-cells.js';
export { relabelCells, relabeledLoss, instanceClassWeights, trainRelabeledRun, checkRelabelSettings, quantile, RELABEL_DEFAULTS, RELABEL_FILE, RelabelRecordSchema, type RelabelSettings, type Relabeling, type InstanceLabel, type RelabelRecord } from './case-relabel.js';
export { readOod, saveOod, oodIsCurrent, type LoadedOod, type OodRecord, type OodFitInfo } from './ood-run-file.js';
export { fitOodOnSplits, DEFAULT_OOD_FLAG_SHARE } from './ood-fit.js';

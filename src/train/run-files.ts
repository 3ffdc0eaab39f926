// The run folder's layout and the small files whose values decide every prediction. Each is
// validated when read, and the weights carry what they were trained with (class order, a digest of
// the preprocessing), so an edited or swapped file is refused instead of relabelling silently.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { readJson, writeJsonAtomic } from '../io/index.js';
import { TEMPERATURE_RANGE, type TemperatureFit } from '../eval/index.js';
import type { ModelConfig } from '../model/index.js';
import type { TrainingConfig } from './training-config.js';
import type { ZoomChoice } from './zoom-choice.js';

export const RUN_FILES = {
  config: 'config.json',
  classes: 'classes.json',
  split: 'split.json',
  preprocessing: 'preprocessing.json',
  bestWeights: 'model.safetensors',
  lastWeights: 'last.safetensors',
  metricsLog: 'metrics.jsonl',
  calibration: 'calibration.json',
  metrics: 'metrics.json',
  report: 'report.html',
  /** Every input training left out, with its reason. */
  skipped: 'skipped.csv',
  /** Every input of the evaluated split that evaluate left out (beside metrics.json). */
  evaluationSkipped: 'skipped-evaluate.csv',
  checkpointDir: 'checkpoint',
  /** The record that the run's labels belong to the patient: case classes, baseline, case model (train/case-level.ts). */
  caseLevel: 'case-level.json',
  /** The case model (gated attention MIL) trained by "aplnet train-case", bound to the cell weights. */
  caseModel: 'case-model.safetensors',
  /** The out-of-distribution check: method, threshold, and how it was fitted, bound to the weights (train/ood-run-file.ts). */
  ood: 'ood.json',
  /** Its statistics (class means, precision matrices), bound to ood.json by digest. */
  oodStatistics: 'ood.safetensors',
} as const;

export interface RunConfig {
  aplnetVersion: string;
  createdAt: string;
  training: TrainingConfig;
  model: ModelConfig;
  /** How the data was split: the manifest's split column, k-fold, or holdout fractions. */
  splitKind?: 'manifest' | 'k-fold' | 'holdout';
  /** With --zoom auto: the zoom chosen and the measure of the training cells it was chosen on. */
  zoomChoice?: ZoomChoice;
}

export const DEFAULT_REFERRAL_THRESHOLD = 0.7;

/** Where decoded pixels are cached unless a run or command names another folder; shared by runs. */
export const DEFAULT_CACHE_DIR = join(homedir(), '.cache', 'aplnet');

export function runPath(runDir: string, file: keyof typeof RUN_FILES): string {
  return join(runDir, RUN_FILES[file]);
}

export function readRunConfig(runDir: string): RunConfig {
  const config = readJson<RunConfig>(runPath(runDir, 'config'), `is ${runDir} a folder made by "aplnet train"?`);
  if (typeof config !== 'object' || config === null || typeof config.training !== 'object' || typeof config.model !== 'object') {
    throw new Error(`${runPath(runDir, 'config')} lacks its "training" or "model" section; it was edited or is not an aplnet run`);
  }
  return config;
}

export function sha256OfFile(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

const finiteOrNull = z.number().finite().nullable();
const CalibrationSchema = z.object({
  temperature: z.number().finite().min(TEMPERATURE_RANGE.min).max(TEMPERATURE_RANGE.max),
  referralThreshold: z.number().finite().min(0).max(1),
  fittedOn: z.string().min(1),
  nllBefore: finiteOrNull,
  nllAfter: finiteOrNull,
  /** SHA-256 of the weights file the temperature was fitted for. */
  weightsSha256: z.string().regex(/^[0-9a-f]{64}$/),
  /**
   * The output the temperature was fitted for, and so the run's default: 'on' the mean of the eight
   * dihedral views' logits (test-time augmentation), 'off' one view. Files from before TTA: one view.
   */
  tta: z.enum(['on', 'off']).default('off'),
});

/** Test-time augmentation over the dihedral group: on (mean of the 8 views' logits) or off (one view). */
export type TtaMode = 'on' | 'off';

export type Calibration = z.infer<typeof CalibrationSchema>;

/** Writes calibration.json (atomically) for the weights whose digest is given. */
export function saveCalibration(runDir: string, fit: TemperatureFit, referralThreshold: number, weightsSha256: string, tta: TtaMode): Calibration {
  const calibration = CalibrationSchema.parse({
    temperature: fit.temperature,
    referralThreshold,
    fittedOn: 'val',
    nllBefore: Number.isFinite(fit.nllBefore) ? fit.nllBefore : null,
    nllAfter: Number.isFinite(fit.nllAfter) ? fit.nllAfter : null,
    weightsSha256,
    tta,
  });
  writeJsonAtomic(runPath(runDir, 'calibration'), calibration);
  return calibration;
}

/**
 * Reads calibration.json for the weights with digest `weightsSha256`: a missing file, a value out
 * of range, or a temperature fitted for other weights is an error that says how to refit it.
 */
export function readCalibration(runDir: string, weightsSha256: string): Calibration {
  const path = runPath(runDir, 'calibration');
  const refit = `refit it with "aplnet train <data> --out ${runDir} --resume" (finishes an interrupted run) or "aplnet evaluate ${runDir}"`;
  const raw = readJson(path, `the run has no fitted temperature, so its probabilities are not calibrated; ${refit}`);
  const parsed = CalibrationSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'file'}: ${i.message}`).join('; ');
    throw new Error(`${path} is not a valid calibration (${problems}); it was edited or damaged; ${refit}`);
  }
  if (parsed.data.weightsSha256 !== weightsSha256) {
    throw new Error(`${path} was fitted for other weights than ${RUN_FILES.bestWeights} (the weights changed after calibration); ${refit}`);
  }
  return parsed.data;
}

/** Metadata keys that bind a weights file to the run files it was trained with. */
export const WEIGHTS_METADATA = { classes: 'aplnet.classes', preprocessing: 'aplnet.preprocessing_sha256' } as const;

export function weightsMetadata(runDir: string, classNames: string[]): Record<string, string> {
  return { [WEIGHTS_METADATA.classes]: JSON.stringify(classNames), [WEIGHTS_METADATA.preprocessing]: sha256OfFile(runPath(runDir, 'preprocessing')) };
}

/** Refuses weights whose recorded classes or preprocessing differ from the run folder's files. */
export function checkWeightsMatchRun(weightsPath: string, metadata: Record<string, string>, runDir: string, classNames: string[]): void {
  const recordedClasses = metadata[WEIGHTS_METADATA.classes];
  const recordedPreprocessing = metadata[WEIGHTS_METADATA.preprocessing];
  if (recordedClasses === undefined || recordedPreprocessing === undefined) {
    throw new Error(`${weightsPath} does not record the classes and preprocessing it was trained with (written by another tool or an older aplnet); retrain the run with this version`);
  }
  if (recordedClasses !== JSON.stringify(classNames)) {
    throw new Error(`${runPath(runDir, 'classes')} lists ${JSON.stringify(classNames)} but ${weightsPath} was trained with ${recordedClasses}: the class list was edited, so every label would be wrong. Restore classes.json.`);
  }
  if (recordedPreprocessing !== sha256OfFile(runPath(runDir, 'preprocessing'))) {
    throw new Error(`${runPath(runDir, 'preprocessing')} differs from the one ${weightsPath} was trained with: the file was edited or replaced. Restore it.`);
  }
}

// The run folder: everything a trained model needs later (predict, evaluate, serve, resume).
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readJson, writeJsonAtomic } from '../io/index.js';
import type { ModelConfig } from '../model/index.js';
import type { TemperatureFit } from '../eval/index.js';
import type { TrainingConfig } from './training-config.js';

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
  checkpointDir: 'checkpoint',
} as const;

export interface RunConfig {
  aplnetVersion: string;
  createdAt: string;
  training: TrainingConfig;
  model: ModelConfig;
}

export interface Calibration {
  temperature: number;
  /** Below this calibrated top probability an image is flagged "refer to a specialist". */
  referralThreshold: number;
  fittedOn: string;
  nllBefore: number;
  nllAfter: number;
}

export const DEFAULT_REFERRAL_THRESHOLD = 0.7;

/** Where decoded pixels are cached unless a run or command names another folder; shared by runs. */
export const DEFAULT_CACHE_DIR = join(homedir(), '.cache', 'aplnet');

/** Writes calibration.json (atomically) from a temperature fitted on the validation split. */
export function saveCalibration(runDir: string, fit: TemperatureFit, referralThreshold: number): Calibration {
  const calibration: Calibration = { temperature: fit.temperature, referralThreshold, fittedOn: 'val', nllBefore: fit.nllBefore, nllAfter: fit.nllAfter };
  writeJsonAtomic(runPath(runDir, 'calibration'), calibration);
  return calibration;
}

export function runPath(runDir: string, file: keyof typeof RUN_FILES): string {
  return join(runDir, RUN_FILES[file]);
}


export function readRunConfig(runDir: string): RunConfig {
  return readJson<RunConfig>(runPath(runDir, 'config'), `is ${runDir} a folder made by "aplnet train"?`);
}

